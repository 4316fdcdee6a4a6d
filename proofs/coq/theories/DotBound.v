(** * A priori error bound of a floating-point dot product in ANY summation order
      (the hypothesis of [crates/pespectra-arith/src/gemm/mod.rs]).

    Model: binary64 = FLT(-1074, 53) with RN ties-to-even (TwoSum.v); overflow excluded
    (FLT is unbounded above).  The computation of one entry is an arbitrary binary tree:
    leaves are nearest-rounded products [RN (x_i * y_i)], inner nodes nearest-rounded
    additions of the two sub-results.  This covers every parenthesization and every
    permutation of the k products (the leaves carry the operands themselves).
    NOT covered: fused multiply-add accumulation [RN (x*y + s)] (a leaf-and-node in one
    rounding), blocked algorithms that are not such a tree (Strassen), and extended
    precision accumulators. *)

From Coq Require Import Reals Psatz ZArith.
From Flocq Require Import Core Plus_error Relative.
From Pespectra Require Import TwoSum.

Open Scope R_scope.

Definition u : R := bpow radix2 (-53).
Definition eta : R := bpow radix2 (-1075).   (* half the smallest subnormal *)

Lemma u_pos : 0 < u.
Proof. apply bpow_gt_0. Qed.
Lemma eta_pos : 0 < eta.
Proof. apply bpow_gt_0. Qed.

(** ** Single-operation error bounds *)

Lemma half_bpow : forall e, / 2 * bpow radix2 e = bpow radix2 (e - 1).
Proof.
  intros e.
  replace e with ((e - 1) + 1)%Z at 1 by lia.
  rewrite bpow_plus; simpl. unfold Z.pow_pos; simpl. field.
Qed.

Lemma RN_error_any : forall z, Rabs (RN z - z) <= u * Rabs z + eta.
Proof.
  intros z.
  destruct (Rle_or_lt (bpow radix2 (emin + prec - 1)) (Rabs z)) as [H|H].
  - pose proof (relative_error_N_FLT radix2 emin prec ltac:(unfold prec; lia) choiceE z H) as R.
    unfold RN, fexp.
    rewrite half_bpow in R.
    unfold u; replace (- prec + 1 - 1)%Z with (-53)%Z in R by reflexivity.
    pose proof eta_pos. lra.
  - pose proof (error_le_half_ulp radix2 fexp choiceE z) as R.
    rewrite (ulp_FLT_small radix2 emin prec) in R.
    2: { apply Rlt_le_trans with (1 := H); apply bpow_le; lia. }
    rewrite half_bpow in R.
    unfold RN.
    replace (emin - 1)%Z with (-1075)%Z in R by reflexivity.
    pose proof u_pos. pose proof (Rabs_pos z).
    unfold eta. assert (0 <= u * Rabs z) by (apply Rmult_le_pos; lra). lra.
Qed.

Lemma RN_error_sum : forall a b, fmt a -> fmt b ->
  Rabs (RN (a + b) - (a + b)) <= u * Rabs (a + b).
Proof.
  intros a b Ha Hb.
  destruct (Rle_or_lt (bpow radix2 (emin + prec - 1)) (Rabs (a + b))) as [H|H].
  - pose proof (relative_error_N_FLT radix2 emin prec ltac:(unfold prec; lia) choiceE (a + b) H) as R.
    unfold RN, fexp.
    rewrite half_bpow in R.
    unfold u; replace (- prec + 1 - 1)%Z with (-53)%Z in R by reflexivity.
    lra.
  - assert (F : fmt (a + b)).
    { apply FLT_format_plus_small; auto with typeclass_instances.
      apply Rlt_le, Rlt_le_trans with (1 := H); apply bpow_le; lia. }
    unfold RN; rewrite round_generic; auto with typeclass_instances.
    rewrite Rminus_diag_eq, Rabs_R0 by reflexivity.
    apply Rmult_le_pos; [apply Rlt_le, u_pos | apply Rabs_pos].
Qed.

(** ** Summation trees *)

Inductive tree : Type :=
  | Leaf (x y : R)
  | Node (l r : tree).

Fixpoint size (t : tree) : nat :=
  match t with Leaf _ _ => 1%nat | Node l r => (size l + size r)%nat end.

(** exact value  x^T y *)
Fixpoint ex (t : tree) : R :=
  match t with Leaf x y => x * y | Node l r => ex l + ex r end.

(** |x|^T |y| *)
Fixpoint ab (t : tree) : R :=
  match t with Leaf x y => Rabs x * Rabs y | Node l r => ab l + ab r end.

(** computed value *)
Fixpoint fl (t : tree) : R :=
  match t with Leaf x y => RN (x * y) | Node l r => RN (fl l + fl r) end.

Lemma size_pos : forall t, (1 <= size t)%nat.
Proof. induction t; simpl; lia. Qed.

Lemma fl_fmt : forall t, fmt (fl t).
Proof. destruct t; apply fmt_RN. Qed.

Lemma ab_ge_ex : forall t, Rabs (ex t) <= ab t.
Proof.
  induction t; simpl.
  - rewrite Rabs_mult; lra.
  - eapply Rle_trans; [apply Rabs_triang | lra].
Qed.

Lemma ab_nonneg : forall t, 0 <= ab t.
Proof. intros t; eapply Rle_trans; [apply Rabs_pos | apply ab_ge_ex]. Qed.

Lemma pow1u_ge1 : forall n, 1 <= (1 + u) ^ n.
Proof.
  induction n; simpl; [lra|].
  pose proof u_pos. nra.
Qed.

Lemma pow1u_mono : forall m n, (m <= n)%nat -> (1 + u) ^ m <= (1 + u) ^ n.
Proof.
  intros m n H. apply Rle_pow; auto. pose proof u_pos; lra.
Qed.

(** Sharp form: theta_n = (1+u)^n - 1, eta-coefficient n (1+u)^(n-1). *)
Theorem tree_error_theta :
  forall t, Rabs (fl t - ex t) <=
            ((1 + u) ^ size t - 1) * ab t + INR (size t) * eta * (1 + u) ^ (size t - 1).
Proof.
  induction t as [x y | l IHl r IHr].
  - simpl. rewrite Rmult_1_r, <- Rabs_mult.
    pose proof (RN_error_any (x * y)). lra.
  - simpl fl; simpl ex; simpl ab; simpl size.
    set (n1 := size l) in *. set (n2 := size r) in *.
    pose proof (size_pos l) as P1. pose proof (size_pos r) as P2.
    fold n1 in P1. fold n2 in P2.
    set (S := fl l + fl r). set (E := ex l + ex r).
    pose proof (RN_error_sum (fl l) (fl r) (fl_fmt l) (fl_fmt r)) as HS. fold S in HS.
    assert (T1 : Rabs (RN S - E) <= Rabs (RN S - S) + Rabs (S - E)).
    { replace (RN S - E) with ((RN S - S) + (S - E)) by ring. apply Rabs_triang. }
    assert (T2 : Rabs S <= Rabs E + Rabs (S - E)).
    { replace S with (E + (S - E)) at 1 by ring. apply Rabs_triang. }
    assert (T3 : Rabs (S - E) <= Rabs (fl l - ex l) + Rabs (fl r - ex r)).
    { replace (S - E) with ((fl l - ex l) + (fl r - ex r)) by (unfold S, E; ring).
      apply Rabs_triang. }
    assert (TE : Rabs E <= ab l + ab r).
    { eapply Rle_trans; [apply Rabs_triang|].
      pose proof (ab_ge_ex l); pose proof (ab_ge_ex r); lra. }
    (* monotonicity of the coefficients *)
    set (n := (n1 + n2)%nat).
    assert (M1 : (1 + u) ^ n1 <= (1 + u) ^ (n - 1)) by (apply pow1u_mono; unfold n; lia).
    assert (M2 : (1 + u) ^ n2 <= (1 + u) ^ (n - 1)) by (apply pow1u_mono; unfold n; lia).
    assert (M1' : (1 + u) ^ (n1 - 1) <= (1 + u) ^ (n - 2)) by (apply pow1u_mono; unfold n; lia).
    assert (M2' : (1 + u) ^ (n2 - 1) <= (1 + u) ^ (n - 2)) by (apply pow1u_mono; unfold n; lia).
    assert (Pn : (1 + u) ^ n = (1 + u) * (1 + u) ^ (n - 1)).
    { replace n with (Datatypes.S (n - 1)) at 1 by (unfold n; lia). reflexivity. }
    assert (Pn' : (1 + u) ^ (n - 1) = (1 + u) * (1 + u) ^ (n - 2)).
    { replace (n - 1)%nat with (Datatypes.S (n - 2)) at 1 by (unfold n; lia). reflexivity. }
    assert (In : INR n = INR n1 + INR n2) by (unfold n; apply plus_INR).
    pose proof (pos_INR n1); pose proof (pos_INR n2).
    pose proof u_pos; pose proof eta_pos.
    pose proof (ab_nonneg l); pose proof (ab_nonneg r).
    pose proof (pow1u_ge1 n1); pose proof (pow1u_ge1 n2); pose proof (pow1u_ge1 (n - 2)).
    set (A := (1 + u) ^ (n - 1)) in *. set (B := (1 + u) ^ (n - 2)) in *.
    set (q1 := (1 + u) ^ n1) in *. set (q2 := (1 + u) ^ n2) in *.
    set (q1' := (1 + u) ^ (n1 - 1)) in *. set (q2' := (1 + u) ^ (n2 - 1)) in *.
    rewrite Pn, In.
    (* |RN S - E| <= u|E| + (1+u)|S - E| *)
    assert (K : Rabs (RN S - E) <= u * (ab l + ab r) + (1 + u) * Rabs (S - E)).
    { assert (u * Rabs S <= u * (ab l + ab r + Rabs (S - E))).
      { apply Rmult_le_compat_l; lra. }
      lra. }
    assert (Kl : Rabs (fl l - ex l) <= (A - 1) * ab l + INR n1 * eta * B).
    { eapply Rle_trans; [apply IHl|]. apply Rplus_le_compat.
      - apply Rmult_le_compat_r; lra.
      - apply Rmult_le_compat_l; [apply Rmult_le_pos; lra | lra]. }
    assert (Kr : Rabs (fl r - ex r) <= (A - 1) * ab r + INR n2 * eta * B).
    { eapply Rle_trans; [apply IHr|]. apply Rplus_le_compat.
      - apply Rmult_le_compat_r; lra.
      - apply Rmult_le_compat_l; [apply Rmult_le_pos; lra | lra]. }
    assert (X : (1 + u) * Rabs (S - E) <=
                (1 + u) * ((A - 1) * (ab l + ab r) + (INR n1 + INR n2) * eta * B)).
    { apply Rmult_le_compat_l; lra. }
    assert (Q : ((1 + u) * A - 1) * (ab l + ab r) + (INR n1 + INR n2) * eta * A =
                u * (ab l + ab r) + (1 + u) * ((A - 1) * (ab l + ab r) + (INR n1 + INR n2) * eta * B)).
    { rewrite Pn'. ring. }
    lra.
Qed.

(** ** From theta_n to gamma_n = n u / (1 - n u) *)

Definition gamma (n : nat) : R := INR n * u / (1 - INR n * u).

Lemma pow1u_le_inv : forall n, (1 + u) ^ n * (1 - INR n * u) <= 1.
Proof.
  induction n.
  - simpl; lra.
  - rewrite S_INR. simpl pow.
    pose proof u_pos. pose proof (pow1u_ge1 n). pose proof (pos_INR n).
    assert ((1 + u) * (1 - (INR n + 1) * u) <= 1 - INR n * u) by nra.
    nra.
Qed.

Lemma theta_le_gamma : forall n, INR n * u < 1 -> (1 + u) ^ n - 1 <= gamma n.
Proof.
  intros n H. unfold gamma.
  pose proof (pow1u_le_inv n).
  assert (0 < 1 - INR n * u) by lra.
  unfold Rdiv. apply Rle_trans with (/ (1 - INR n * u) - 1).
  - assert ((1 + u) ^ n <= / (1 - INR n * u)).
    { apply Rmult_le_reg_r with (1 - INR n * u); auto.
      rewrite Rinv_l by lra. lra. }
    lra.
  - right. field. lra.
Qed.

Lemma gamma_nonneg : forall n, INR n * u < 1 -> 0 <= gamma n.
Proof.
  intros n H; unfold gamma. pose proof (pos_INR n); pose proof u_pos.
  unfold Rdiv; apply Rmult_le_pos; [nra|].
  apply Rlt_le, Rinv_0_lt_compat; lra.
Qed.

(** Main theorem: |fl(x^T y) - x^T y| <= gamma_k |x|^T|y| + k eta (1 + gamma_k),
    for every summation tree with k leaves, when k u < 1.  (eta = 2^-1075.) *)
Theorem dot_error_gamma :
  forall t, let k := size t in INR k * u < 1 ->
  Rabs (fl t - ex t) <= gamma k * ab t + INR k * eta * (1 + gamma k).
Proof.
  intros t k Hk.
  eapply Rle_trans; [apply tree_error_theta|]. fold k.
  pose proof (theta_le_gamma k Hk) as G.
  assert (G' : (1 + u) ^ (k - 1) <= 1 + gamma k).
  { pose proof (pow1u_mono (k - 1) k ltac:(lia)). lra. }
  pose proof (ab_nonneg t). pose proof (pos_INR k). pose proof eta_pos.
  apply Rplus_le_compat.
  - apply Rmult_le_compat_r; auto.
  - apply Rmult_le_compat_l; auto. apply Rmult_le_pos; lra.
Qed.

(** Code's form: with eta64 = 2^-1074 = 2 eta (gemm/mod.rs ETA64), when 2ku <= 1 (so gamma_k <= 1):
    |fl - x^T y| <= gamma_k |x|^T|y| + k eta64. *)
Definition eta64 : R := bpow radix2 (-1074).

Lemma eta64_eq : eta64 = 2 * eta.
Proof.
  unfold eta64, eta. replace (-1074)%Z with ((-1075) + 1)%Z by reflexivity.
  rewrite bpow_plus. simpl. unfold Z.pow_pos; simpl. ring.
Qed.

Lemma gamma_le_1 : forall n, 2 * INR n * u <= 1 -> INR n * u < 1 -> gamma n <= 1.
Proof.
  intros n H1 H2; unfold gamma.
  apply Rmult_le_reg_r with (1 - INR n * u); [lra|].
  unfold Rdiv; rewrite Rmult_assoc, Rinv_l by lra. lra.
Qed.

Theorem dot_error_code :
  forall t, let k := size t in 2 * INR k * u < 1 ->
  Rabs (fl t - ex t) <= gamma k * ab t + INR k * eta64.
Proof.
  intros t k Hk.
  assert (Hk1 : INR k * u < 1) by (pose proof u_pos; pose proof (pos_INR k); nra).
  eapply Rle_trans; [apply (dot_error_gamma t Hk1)|]. fold k.
  pose proof (gamma_le_1 k ltac:(lra) Hk1). rewrite eta64_eq.
  pose proof (pos_INR k). pose proof eta_pos.
  assert (INR k * eta * (1 + gamma k) <= INR k * eta * 2).
  { apply Rmult_le_compat_l; [apply Rmult_le_pos; lra | lra]. }
  replace (INR k * (2 * eta)) with (INR k * eta * 2) by ring.
  lra.
Qed.

(** ** The bound gemm/mod.rs actually evaluates: c_k (T + k eta64) + k eta64,
    c_k = k u / (1 - 2 k u), where T = fl(|A| |B|) is computed by another tree t'
    (any order) over the same exact value S = |x|^T|y|. *)
Definition c (n : nat) : R := INR n * u / (1 - 2 * INR n * u).

Fixpoint abs_tree (t : tree) : tree :=
  match t with Leaf x y => Leaf (Rabs x) (Rabs y) | Node l r => Node (abs_tree l) (abs_tree r) end.

Lemma abs_tree_props : forall t,
  size (abs_tree t) = size t /\ ex (abs_tree t) = ab t /\ ab (abs_tree t) = ab t.
Proof.
  induction t as [x y | l [Hl1 [Hl2 Hl3]] r [Hr1 [Hr2 Hr3]]]; simpl.
  - rewrite !Rabs_Rabsolu; auto.
  - rewrite Hl1, Hl2, Hl3, Hr1, Hr2, Hr3; auto.
Qed.

Lemma c_from_gamma : forall n, 2 * INR n * u < 1 ->
  gamma n / (1 - gamma n) = c n.
Proof.
  intros n H. pose proof u_pos; pose proof (pos_INR n).
  unfold gamma, c. field. split; lra.
Qed.

Theorem gemm_radius_sound :
  forall t t', let k := size t in
  size t' = k -> ex t' = ab t -> ab t' = ab t -> 2 * INR k * u < 1 ->
  Rabs (fl t - ex t) <= c k * (fl t' + INR k * eta64) + INR k * eta64.
Proof.
  intros t t' k Hs He Ha Hk.
  assert (Hk1 : INR k * u < 1) by (pose proof u_pos; pose proof (pos_INR k); nra).
  pose proof (dot_error_code t Hk) as D. fold k in D.
  pose proof (dot_error_code t') as D'. rewrite Hs in D'. specialize (D' Hk).
  rewrite He, Ha in D'.
  pose proof (gamma_nonneg k Hk1) as G0.
  set (g := gamma k) in *.
  assert (G1 : g < 1).
  { unfold g, gamma. pose proof u_pos; pose proof (pos_INR k).
    apply Rmult_lt_reg_r with (1 - INR k * u); [lra|].
    unfold Rdiv; rewrite Rmult_assoc, Rinv_l by lra. lra. }
  set (S := ab t) in *.
  (* S - T <= g S + k eta64  =>  S <= (T + k eta64) / (1 - g) *)
  assert (HS : S * (1 - g) <= fl t' + INR k * eta64).
  { apply Rabs_le_inv in D'. lra. }
  rewrite <- (c_from_gamma k Hk). fold g.
  assert (g * S <= g / (1 - g) * (fl t' + INR k * eta64)).
  { unfold Rdiv. rewrite Rmult_assoc. apply Rmult_le_compat_l; auto.
    apply Rmult_le_reg_l with (1 - g); [lra|].
    rewrite <- Rmult_assoc, Rinv_r by lra. lra. }
  lra.
Qed.

Corollary gemm_radius_sound_abs :
  forall t, let k := size t in 2 * INR k * u < 1 ->
  Rabs (fl t - ex t) <= c k * (fl (abs_tree t) + INR k * eta64) + INR k * eta64.
Proof.
  intros t k Hk. destruct (abs_tree_props t) as [H1 [H2 H3]].
  now apply gemm_radius_sound.
Qed.
