(* Schur product bound in quadratic-form form (proofs/T2.md, T10.md), over Coq's Reals.
   Vectors: nat -> R, matrices: nat -> nat -> R, indices < n. *)
From Coq Require Import Reals Lra Lia Arith.
Require Import Pespectra.D1.
Open Scope R_scope.

(** Quadratic form y^T A y, squared norm |y|^2, Hadamard product, Gram kernel sum_k v_k v_k^T. *)
Definition qf (n : nat) (A : nat -> nat -> R) (y : nat -> R) : R :=
  sum n (fun i => sum n (fun j => y i * A i j * y j)).
Definition norm2 (n : nat) (y : nat -> R) : R := sum n (fun i => y i * y i).
Definition had (A B : nat -> nat -> R) (i j : nat) : R := A i j * B i j.
Definition gram (K : nat) (v : nat -> nat -> R) (i j : nat) : R := sum K (fun k => v k i * v k j).

(** x^T (A o B) x = sum_k (x o v_k)^T A (x o v_k) for B = sum_k v_k v_k^T. *)
Lemma qf_had_gram n A K v x :
  qf n (had A (gram K v)) x = sum K (fun k => qf n A (fun i => x i * v k i)).
Proof.
  unfold qf, had, gram.
  transitivity (sum n (fun i => sum K (fun k => sum n (fun j =>
                  (x i * v k i) * A i j * (x j * v k j))))).
  - apply sum_ext; intros i _. rewrite sum_swap. apply sum_ext; intros j _.
    transitivity ((x i * A i j * x j) * sum K (fun k => v k i * v k j)); [ring|].
    rewrite <- sum_scal. apply sum_ext; intros k _. ring.
  - apply sum_swap.
Qed.

(** sum_i B_ii x_i^2 = sum_k |x o v_k|^2. *)
Lemma diag_gram_sum n K v x :
  sum n (fun i => gram K v i i * (x i * x i)) = sum K (fun k => norm2 n (fun i => x i * v k i)).
Proof.
  unfold norm2, gram. rewrite <- sum_swap. apply sum_ext; intros i _.
  rewrite (Rmult_comm (sum K _)), <- sum_scal. apply sum_ext; intros k _. ring.
Qed.

(** Schur product bound: if a|y|^2 <= y^T A y <= b|y|^2 for all y, and B = sum_k v_k v_k^T, then
    a sum_i B_ii x_i^2 <= x^T (A o B) x <= b sum_i B_ii x_i^2 for all x.
    (Symmetry of A is not needed for the quadratic-form statement.) *)
Theorem schur_qf_bound (n K : nat) (A : nat -> nat -> R) (v : nat -> nat -> R) (a b : R) :
  (forall y, a * norm2 n y <= qf n A y <= b * norm2 n y) ->
  forall x,
    a * sum n (fun i => gram K v i i * (x i * x i)) <= qf n (had A (gram K v)) x
    <= b * sum n (fun i => gram K v i i * (x i * x i)).
Proof.
  intros HA x. rewrite qf_had_gram, diag_gram_sum, <- !sum_scal. split.
  - apply sum_le; intros k _. apply HA.
  - apply sum_le; intros k _. apply HA.
Qed.

(** Unit diagonal B_ii = 1: a|x|^2 <= x^T (A o B) x <= b|x|^2. *)
Corollary schur_qf_bound_unit_diag (n K : nat) (A : nat -> nat -> R) (v : nat -> nat -> R) (a b : R) :
  (forall y, a * norm2 n y <= qf n A y <= b * norm2 n y) ->
  (forall i, (i < n)%nat -> gram K v i i = 1) ->
  forall x, a * norm2 n x <= qf n (had A (gram K v)) x <= b * norm2 n x.
Proof.
  intros HA Hd x.
  assert (E : sum n (fun i => gram K v i i * (x i * x i)) = norm2 n x).
  { unfold norm2. apply sum_ext; intros i Hi. rewrite Hd by exact Hi. ring. }
  rewrite <- E. apply schur_qf_bound; exact HA.
Qed.

(** * The RoPE kernel C_{ij} = cos((i - j) theta). *)
Definition rope_cos_kernel (theta : R) (i j : nat) : R := cos ((INR i - INR j) * theta).

(** c_i = cos(i theta), s_i = sin(i theta) as the two Gram vectors (k = 0, 1). *)
Definition cs_vec (theta : R) (k i : nat) : R :=
  if (k =? 0)%nat then cos (INR i * theta) else sin (INR i * theta).

(** C = c c^T + s s^T. *)
Lemma rope_cos_kernel_gram theta i j :
  rope_cos_kernel theta i j = gram 2 (cs_vec theta) i j.
Proof.
  unfold rope_cos_kernel, gram, cs_vec; simpl.
  replace ((INR i - INR j) * theta) with (INR i * theta - INR j * theta) by ring.
  rewrite cos_minus. ring.
Qed.

Lemma rope_cos_kernel_unit_diag theta i : gram 2 (cs_vec theta) i i = 1.
Proof.
  rewrite <- rope_cos_kernel_gram. unfold rope_cos_kernel.
  rewrite Rminus_diag_eq, Rmult_0_l, cos_0; reflexivity.
Qed.

(** Bound for the RoPE kernel: a|x|^2 <= x^T (A o C) x <= b|x|^2. *)
Theorem rope_kernel_qf_bound (n : nat) (A : nat -> nat -> R) (theta a b : R) :
  (forall y, a * norm2 n y <= qf n A y <= b * norm2 n y) ->
  forall x, a * norm2 n x <= qf n (had A (rope_cos_kernel theta)) x <= b * norm2 n x.
Proof.
  intros HA x.
  assert (E : qf n (had A (rope_cos_kernel theta)) x = qf n (had A (gram 2 (cs_vec theta))) x).
  { unfold qf, had. apply sum_ext; intros i _. apply sum_ext; intros j _.
    rewrite rope_cos_kernel_gram; reflexivity. }
  rewrite E. apply schur_qf_bound_unit_diag; [exact HA|].
  intros i _; apply rope_cos_kernel_unit_diag.
Qed.

(** * Gram kernels (in particular C) are PSD: x^T B x = sum_k (v_k . x)^2 >= 0. *)
Lemma qf_ones n y : qf n (fun _ _ => 1) y = sum n y * sum n y.
Proof.
  unfold qf.
  transitivity (sum n (fun i => sum n y * y i)).
  - apply sum_ext; intros i _. rewrite (Rmult_comm (sum n y)), <- sum_scal.
    apply sum_ext; intros j _. ring.
  - apply sum_scal.
Qed.

Theorem gram_psd n K v x : 0 <= qf n (gram K v) x.
Proof.
  assert (E : qf n (gram K v) x = qf n (had (fun _ _ => 1) (gram K v)) x).
  { unfold qf, had. apply sum_ext; intros i _. apply sum_ext; intros j _. ring. }
  rewrite E, qf_had_gram. rewrite <- (sum_zero K). apply sum_le; intros k _.
  rewrite qf_ones. apply Rle_0_sqr.
Qed.

Corollary rope_cos_kernel_psd n theta x : 0 <= qf n (rope_cos_kernel theta) x.
Proof.
  assert (E : qf n (rope_cos_kernel theta) x = qf n (gram 2 (cs_vec theta)) x).
  { unfold qf. apply sum_ext; intros i _. apply sum_ext; intros j _.
    rewrite rope_cos_kernel_gram; reflexivity. }
  rewrite E; apply gram_psd.
Qed.

(** * T2 with a general diagonal: beta_min <= B_ii <= beta_max and |x| = 1 give
    min(a beta_min, a beta_max) <= x^T (A o B) x <= max(b beta_min, b beta_max). *)
Theorem schur_qf_bound_beta (n K : nat) (A : nat -> nat -> R) (v : nat -> nat -> R)
    (a b bmin bmax : R) :
  (forall y, a * norm2 n y <= qf n A y <= b * norm2 n y) ->
  (forall i, (i < n)%nat -> bmin <= gram K v i i <= bmax) ->
  forall x, norm2 n x = 1 ->
    Rmin (a * bmin) (a * bmax) <= qf n (had A (gram K v)) x <= Rmax (b * bmin) (b * bmax).
Proof.
  intros HA Hd x Hx.
  destruct (schur_qf_bound n K A v a b HA x) as [L U].
  set (t := sum n (fun i => gram K v i i * (x i * x i))) in *.
  assert (Tl : bmin <= t).
  { replace bmin with (bmin * norm2 n x) by (rewrite Hx; ring).
    unfold norm2, t. rewrite <- sum_scal. apply sum_le; intros i Hi.
    destruct (Hd i Hi). assert (0 <= x i * x i) by nra. nra. }
  assert (Tu : t <= bmax).
  { replace bmax with (bmax * norm2 n x) by (rewrite Hx; ring).
    unfold norm2, t. rewrite <- sum_scal. apply sum_le; intros i Hi.
    destruct (Hd i Hi). assert (0 <= x i * x i) by nra. nra. }
  split.
  - destruct (Rle_or_lt 0 a) as [Ha|Ha].
    + apply Rle_trans with (a * bmin); [apply Rmin_l|]. nra.
    + apply Rle_trans with (a * bmax); [apply Rmin_r|]. nra.
  - destruct (Rle_or_lt 0 b) as [Hb|Hb].
    + apply Rle_trans with (b * bmax); [nra|apply Rmax_r].
    + apply Rle_trans with (b * bmin); [nra|apply Rmax_l].
Qed.

(** * Convex combinations of frequency kernels: B = sum_f w_f C^f with w_f >= 0, sum_f w_f = 1,
    C^f_{ij} = cos((i - j) theta_f), is a Gram kernel with unit diagonal, so the bound holds. *)
Definition rope_cos_mix (F : nat) (w th : nat -> R) (i j : nat) : R :=
  sum F (fun f => w f * rope_cos_kernel (th f) i j).

Definition mix_vec (w th : nat -> R) (k i : nat) : R :=
  sqrt (w (Nat.div2 k)) * cs_vec (th (Nat.div2 k)) (if Nat.even k then 0%nat else 1%nat) i.

Lemma rope_cos_mix_gram F w th :
  (forall f, (f < F)%nat -> 0 <= w f) ->
  forall i j, rope_cos_mix F w th i j = gram (2 * F) (mix_vec w th) i j.
Proof.
  intros Hw i j. unfold gram. rewrite sum_pairs. unfold rope_cos_mix.
  apply sum_ext; intros f Hf. unfold mix_vec.
  rewrite div2_2f, div2_2f1, even_2f, even_2f1, rope_cos_kernel_gram.
  unfold gram, cs_vec; simpl.
  transitivity (sqrt (w f) * sqrt (w f) *
     (0 + cos (INR i * th f) * cos (INR j * th f) + sin (INR i * th f) * sin (INR j * th f))).
  - rewrite sqrt_sqrt by (apply Hw; exact Hf). reflexivity.
  - ring.
Qed.

Theorem rope_cos_mix_qf_bound (n F : nat) (w th : nat -> R) (A : nat -> nat -> R) (a b : R) :
  (forall f, (f < F)%nat -> 0 <= w f) -> sum F w = 1 ->
  (forall y, a * norm2 n y <= qf n A y <= b * norm2 n y) ->
  forall x, a * norm2 n x <= qf n (had A (rope_cos_mix F w th)) x <= b * norm2 n x.
Proof.
  intros Hw H1 HA x.
  assert (E : qf n (had A (rope_cos_mix F w th)) x = qf n (had A (gram (2 * F) (mix_vec w th))) x).
  { unfold qf, had. apply sum_ext; intros i _. apply sum_ext; intros j _.
    rewrite rope_cos_mix_gram by exact Hw; reflexivity. }
  rewrite E. apply schur_qf_bound_unit_diag; [exact HA|].
  intros i _. rewrite <- rope_cos_mix_gram by exact Hw. unfold rope_cos_mix.
  rewrite <- H1. apply sum_ext; intros f _. unfold rope_cos_kernel.
  rewrite Rminus_diag_eq, Rmult_0_l, cos_0 by reflexivity. ring.
Qed.

(** * Eigenvalue form (real eigenpairs): if M x = mu x with x <> 0 and
    a|x|^2 <= x^T M x <= b|x|^2, then a <= mu <= b. Applied to M = A o B with B a Gram
    kernel of unit diagonal (e.g. C, or a convex mix of C^f): every real eigenvalue of A o B
    (for real symmetric A all eigenvalues are real, with real eigenvectors) lies in [a, b]. *)
Lemma qf_eigen n M x mu :
  (forall i, (i < n)%nat -> sum n (fun j => M i j * x j) = mu * x i) ->
  qf n M x = mu * norm2 n x.
Proof.
  intros He. unfold qf, norm2. rewrite <- sum_scal. apply sum_ext; intros i Hi.
  transitivity (x i * sum n (fun j => M i j * x j)).
  - rewrite <- sum_scal. apply sum_ext; intros j _. ring.
  - rewrite He by exact Hi. ring.
Qed.

Lemma norm2_pos n x : (exists i, (i < n)%nat /\ x i <> 0) -> 0 < norm2 n x.
Proof.
  induction n as [|n IH]; intros [i [Hi Hx]]; [lia|]. unfold norm2 in *; simpl.
  assert (0 <= sum n (fun i => x i * x i)).
  { rewrite <- (sum_zero n). apply sum_le; intros; apply Rle_0_sqr. }
  destruct (Nat.eq_dec i n) as [->|Hne].
  - assert (0 < x n * x n) by (apply Rsqr_pos_lt; exact Hx). lra.
  - assert (0 < sum n (fun i => x i * x i)) by (apply IH; exists i; split; [lia|exact Hx]).
    assert (0 <= x n * x n) by apply Rle_0_sqr. lra.
Qed.

Theorem eigen_in_interval n M x mu a b :
  (forall y, a * norm2 n y <= qf n M y <= b * norm2 n y) ->
  (exists i, (i < n)%nat /\ x i <> 0) ->
  (forall i, (i < n)%nat -> sum n (fun j => M i j * x j) = mu * x i) ->
  a <= mu <= b.
Proof.
  intros HM Hx He. pose proof (norm2_pos n x Hx) as P.
  destruct (HM x) as [L U]. rewrite (qf_eigen n M x mu He) in L, U.
  split; [apply (Rmult_le_reg_r (norm2 n x)) | apply (Rmult_le_reg_r (norm2 n x))]; lra.
Qed.

Corollary schur_eigen_unit_diag (n K : nat) (A : nat -> nat -> R) (v : nat -> nat -> R)
    (a b : R) (x : nat -> R) (mu : R) :
  (forall y, a * norm2 n y <= qf n A y <= b * norm2 n y) ->
  (forall i, (i < n)%nat -> gram K v i i = 1) ->
  (exists i, (i < n)%nat /\ x i <> 0) ->
  (forall i, (i < n)%nat -> sum n (fun j => had A (gram K v) i j * x j) = mu * x i) ->
  a <= mu <= b.
Proof.
  intros HA Hd Hx He. apply (eigen_in_interval n (had A (gram K v)) x mu a b); try assumption.
  apply schur_qf_bound_unit_diag; assumption.
Qed.

Corollary rope_kernel_eigen (n : nat) (A : nat -> nat -> R) (theta a b : R) (x : nat -> R) (mu : R) :
  (forall y, a * norm2 n y <= qf n A y <= b * norm2 n y) ->
  (exists i, (i < n)%nat /\ x i <> 0) ->
  (forall i, (i < n)%nat -> sum n (fun j => had A (rope_cos_kernel theta) i j * x j) = mu * x i) ->
  a <= mu <= b.
Proof.
  intros HA Hx He. apply (eigen_in_interval n (had A (rope_cos_kernel theta)) x mu a b); try assumption.
  apply rope_kernel_qf_bound; assumption.
Qed.
