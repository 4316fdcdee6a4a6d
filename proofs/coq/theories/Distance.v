(* Path distance matrix D_n = [|i - j|]_{i,j<n} (proofs/T8.md (b), T7.md (a)), over Coq's Reals.
   Vectors: nat -> R, matrices: nat -> nat -> R, indices < n; [sum], [qf], [norm2] as in D1/Schur. *)
From Coq Require Import Reals Lra Lia Arith.
Require Import Pespectra.D1 Pespectra.Schur.
From Coq Require Import RelationClasses.
Open Scope R_scope.

#[local] Instance Rle_Transitive_local : Transitive Rle := Rle_trans.

(** The distance matrix (indices from 0; only i - j matters). *)
Definition dmat (i j : nat) : R := Rabs (INR i - INR j).
Definition ones (i : nat) : R := 1.

Lemma sum_const1 n : sum n (fun _ => 1) = INR n.
Proof. induction n; simpl sum; [simpl; lra|rewrite IHn, S_INR; lra]. Qed.

(** Row sums, for every i and every length n (two regimes). *)
Lemma row_sum_gen (i n : nat) :
  ((n <= i)%nat -> 2 * sum n (fun j => dmat i j) = 2 * INR n * INR i - INR n * (INR n - 1)) /\
  ((i < n)%nat -> 2 * sum n (fun j => dmat i j) =
                  INR i * (INR i + 1) + (INR n - 1 - INR i) * (INR n - INR i)).
Proof.
  induction n as [|n [IH1 IH2]].
  - split; intros H; [simpl; lra | lia].
  - assert (Hs : 2 * sum (S n) (fun j => dmat i j) = 2 * sum n (fun j => dmat i j) + 2 * dmat i n)
      by (simpl sum; lra).
    rewrite Hs. rewrite S_INR.
    split; intros H.
    + assert (Hn : (INR n + 1 <= INR i)) by (rewrite <- S_INR; apply le_INR; lia).
      rewrite IH1 by lia. unfold dmat. rewrite Rabs_right by lra. lra.
    + destruct (Nat.eq_dec i n) as [->|Hne].
      * rewrite IH1 by lia. unfold dmat. replace (INR n - INR n) with 0 by lra. rewrite Rabs_R0. lra.
      * assert (Hn : INR i + 1 <= INR n) by (rewrite <- S_INR; apply le_INR; lia).
        rewrite IH2 by lia. unfold dmat. rewrite Rabs_left1 by lra. lra.
Qed.

(** Row-sum identity r_i = i(i+1)/2 + (n-1-i)(n-i)/2 for i < n. *)
Theorem row_sum (n i : nat) : (i < n)%nat ->
  sum n (fun j => dmat i j) = INR i * (INR i + 1) / 2 + (INR n - 1 - INR i) * (INR n - INR i) / 2.
Proof. intros H. pose proof (proj2 (row_sum_gen i n) H). lra. Qed.

(** Row sums are at most n(n-1)/2 (maximum at i = 0 and i = n-1). *)
Theorem row_sum_le (n i : nat) : (i < n)%nat ->
  sum n (fun j => dmat i j) <= INR n * (INR n - 1) / 2.
Proof.
  intros H. rewrite row_sum by exact H.
  assert (Hi : 0 <= INR i) by apply pos_INR.
  assert (Hn : INR i + 1 <= INR n) by (rewrite <- S_INR; apply le_INR; lia).
  assert (0 <= INR i * (INR n - 1 - INR i)) by (apply Rmult_le_pos; lra).
  nra.
Qed.

(** 1^T D_n 1 = sum_{i,j<n} |i-j| = n(n^2-1)/3. *)
Theorem ones_D_ones (n : nat) :
  sum n (fun i => sum n (fun j => dmat i j)) = INR n * (INR n * INR n - 1) / 3.
Proof.
  induction n as [|n IH]; [simpl; lra|].
  assert (Hrow : sum (S n) (fun j => dmat n j) = INR n * (INR n + 1) / 2).
  { rewrite row_sum by lia. rewrite S_INR. lra. }
  assert (Hcol : sum n (fun i => dmat i n) = INR n * (INR n + 1) / 2).
  { pose proof (proj1 (row_sum_gen n n) (le_n n)) as E.
    assert (sum n (fun i => dmat i n) = sum n (fun j => dmat n j)).
    { apply sum_ext; intros j _. unfold dmat. rewrite <- Rabs_Ropp. f_equal. ring. }
    lra. }
  transitivity (sum n (fun i => sum n (fun j => dmat i j) + dmat i n) + sum (S n) (fun j => dmat n j)).
  - reflexivity.
  - rewrite sum_add, IH, Hcol, Hrow, S_INR. field.
Qed.

Theorem qf_D_ones (n : nat) : qf n dmat ones = INR n * (INR n * INR n - 1) / 3.
Proof.
  rewrite <- ones_D_ones. unfold qf, ones. apply sum_ext; intros i _.
  apply sum_ext; intros j _. ring.
Qed.

Theorem norm2_ones (n : nat) : norm2 n ones = INR n.
Proof. unfold norm2, ones. rewrite <- sum_const1. apply sum_ext; intros; ring. Qed.

(** Rayleigh quotient of the all-ones vector: 1^T D_n 1 / 1^T 1 = (n^2 - 1)/3 (n >= 1). *)
Theorem rayleigh_ones (n : nat) : (1 <= n)%nat ->
  qf n dmat ones / norm2 n ones = (INR n * INR n - 1) / 3.
Proof.
  intros H. rewrite qf_D_ones, norm2_ones.
  assert (INR n <> 0) by (apply not_0_INR; lia). field; assumption.
Qed.

(** Generic sum facts. *)
Lemma sum_abs n f : Rabs (sum n f) <= sum n (fun i => Rabs (f i)).
Proof.
  induction n as [|n IH]; simpl sum.
  - rewrite Rabs_R0; lra.
  - eapply Rle_trans; [apply Rabs_triang|]. lra.
Qed.

Lemma sq_nonneg (a : R) : 0 <= a * a.
Proof. apply Rle_0_sqr. Qed.

Lemma weighted_row_bound (n : nat) (A : nat -> nat -> R) (r : R) (y : nat -> R) :
  (forall i, (i < n)%nat -> sum n (fun j => Rabs (A i j)) <= r) ->
  sum n (fun i => sum n (fun j => Rabs (A i j) * (y i * y i) / 2)) <= r * norm2 n y / 2.
Proof.
  intros Hrow.
  transitivity (sum n (fun i => (y i * y i / 2) * sum n (fun j => Rabs (A i j)))).
  - right. apply sum_ext; intros i _. rewrite <- sum_scal. apply sum_ext; intros j _. field.
  - transitivity (sum n (fun i => (r / 2) * (y i * y i))).
    + apply sum_le; intros i Hi. specialize (Hrow i Hi). pose proof (sq_nonneg (y i)).
      assert (0 <= y i * y i / 2) by lra.
      replace (r / 2 * (y i * y i)) with ((y i * y i / 2) * r) by field.
      apply Rmult_le_compat_l; assumption.
    + right. rewrite sum_scal. unfold norm2. field.
Qed.

(** Schur test (row-sum bound): for symmetric A with absolute row sums <= r,
    |y^T A y| <= r |y|^2. *)
Theorem schur_test (n : nat) (A : nat -> nat -> R) (r : R) (y : nat -> R) :
  (forall i j, (i < n)%nat -> (j < n)%nat -> A i j = A j i) ->
  (forall i, (i < n)%nat -> sum n (fun j => Rabs (A i j)) <= r) ->
  Rabs (qf n A y) <= r * norm2 n y.
Proof.
  intros Hsym Hrow.
  assert (Hpt : forall i j, Rabs (y i * A i j * y j) <=
                 Rabs (A i j) * (y i * y i) / 2 + Rabs (A i j) * (y j * y j) / 2).
  { intros i j. rewrite !Rabs_mult.
    assert (0 <= Rabs (A i j)) by apply Rabs_pos.
    assert (2 * (Rabs (y i) * Rabs (y j)) <= y i * y i + y j * y j).
    { assert (Ri : Rabs (y i) * Rabs (y i) = y i * y i)
        by (rewrite <- Rabs_mult; apply Rabs_right; apply Rle_ge, sq_nonneg).
      assert (Rj : Rabs (y j) * Rabs (y j) = y j * y j)
        by (rewrite <- Rabs_mult; apply Rabs_right; apply Rle_ge, sq_nonneg).
      pose proof (sq_nonneg (Rabs (y i) - Rabs (y j))). nra. }
    nra. }
  unfold qf.
  eapply Rle_trans; [apply sum_abs|].
  eapply Rle_trans.
  { apply sum_le; intros i _. eapply Rle_trans; [apply sum_abs|].
    apply sum_le; intros j _. apply Hpt. }
  assert (H1 := weighted_row_bound n A r y Hrow).
  assert (H2 : sum n (fun i => sum n (fun j => Rabs (A i j) * (y j * y j) / 2)) <= r * norm2 n y / 2).
  { rewrite sum_swap.
    transitivity (sum n (fun j => sum n (fun i => Rabs (A j i) * (y j * y j) / 2))).
    - right. apply sum_ext; intros j Hj. apply sum_ext; intros i Hi. rewrite (Hsym i j Hi Hj). reflexivity.
    - apply weighted_row_bound; assumption. }
  transitivity (sum n (fun i => sum n (fun j => Rabs (A i j) * (y i * y i) / 2))
              + sum n (fun i => sum n (fun j => Rabs (A i j) * (y j * y j) / 2))).
  - right. rewrite <- sum_add. apply sum_ext; intros i _. rewrite <- sum_add. reflexivity.
  - lra.
Qed.

Lemma dmat_sym i j : dmat i j = dmat j i.
Proof. unfold dmat. rewrite <- Rabs_Ropp. f_equal. ring. Qed.

(** T8(b) upper bound, quadratic-form version: |x^T D_n x| <= n(n-1)/2 |x|^2. *)
Theorem qf_D_le (n : nat) (x : nat -> R) :
  Rabs (qf n dmat x) <= INR n * (INR n - 1) / 2 * norm2 n x.
Proof.
  apply schur_test.
  - intros; apply dmat_sym.
  - intros i Hi. transitivity (sum n (fun j => dmat i j)).
    + right. apply sum_ext; intros j _. unfold dmat. apply Rabs_Rabsolu.
    + apply row_sum_le; exact Hi.
Qed.

Corollary qf_D_upper (n : nat) (x : nat -> R) :
  qf n dmat x <= INR n * (INR n - 1) / 2 * norm2 n x.
Proof. pose proof (qf_D_le n x). pose proof (Rle_abs (qf n dmat x)). lra. Qed.

(** T7(a), quadratic-form version: Rayleigh bounds add for additive coupling. *)
Lemma qf_add (n : nat) (A B : nat -> nat -> R) (y : nat -> R) :
  qf n (fun i j => A i j + B i j) y = qf n A y + qf n B y.
Proof.
  unfold qf. rewrite <- sum_add. apply sum_ext; intros i _.
  rewrite <- sum_add. apply sum_ext; intros j _. ring.
Qed.

Theorem weyl_qf (n : nat) (A B : nat -> nat -> R) (y : nat -> R) (a b c d : R) :
  a * norm2 n y <= qf n A y <= b * norm2 n y ->
  c * norm2 n y <= qf n B y <= d * norm2 n y ->
  (a + c) * norm2 n y <= qf n (fun i j => A i j + B i j) y <= (b + d) * norm2 n y.
Proof. intros HA HB. rewrite qf_add. lra. Qed.

(** The additive coupling G + B with a Schur-test-bounded symmetric bias B moves the
    quadratic form by at most r |y|^2 in either direction. *)
Theorem weyl_qf_schur (n : nat) (G B : nat -> nat -> R) (y : nat -> R) (a b r : R) :
  (forall i j, (i < n)%nat -> (j < n)%nat -> B i j = B j i) ->
  (forall i, (i < n)%nat -> sum n (fun j => Rabs (B i j)) <= r) ->
  a * norm2 n y <= qf n G y <= b * norm2 n y ->
  (a - r) * norm2 n y <= qf n (fun i j => G i j + B i j) y <= (b + r) * norm2 n y.
Proof.
  intros Hs Hr HG. pose proof (schur_test n B r y Hs Hr) as HB.
  pose proof (Rle_abs (qf n B y)). pose proof (Rle_abs (- qf n B y)). rewrite Rabs_Ropp in *. apply weyl_qf; lra.
Qed.

(** ALiBi bias B = -m D_n: y^T B y = -m y^T D_n y, so |y^T B y| <= m n(n-1)/2 |y|^2 and
    1^T B 1 / 1^T 1 = -m (n^2-1)/3. *)
Lemma qf_scale (n : nat) (m : R) (A : nat -> nat -> R) (y : nat -> R) :
  qf n (fun i j => m * A i j) y = m * qf n A y.
Proof.
  unfold qf. rewrite <- sum_scal. apply sum_ext; intros i _.
  rewrite <- sum_scal. apply sum_ext; intros j _. ring.
Qed.

Theorem alibi_qf_bound (n : nat) (m : R) (y : nat -> R) : 0 <= m ->
  Rabs (qf n (fun i j => - m * dmat i j) y) <= m * (INR n * (INR n - 1) / 2) * norm2 n y.
Proof.
  intros Hm. rewrite qf_scale, Rabs_mult, Rabs_Ropp, Rabs_right by lra.
  rewrite Rmult_assoc. apply Rmult_le_compat_l; [exact Hm | apply qf_D_le].
Qed.

Theorem alibi_rayleigh_ones (n : nat) (m : R) : (1 <= n)%nat ->
  qf n (fun i j => - m * dmat i j) ones / norm2 n ones = - m * ((INR n * INR n - 1) / 3).
Proof.
  intros H. rewrite qf_scale. rewrite <- rayleigh_ones by exact H.
  unfold Rdiv. ring.
Qed.

(** * The exact identity over nat: 3 * sum_{i,j<n} |i-j| = n(n^2-1), with |i-j| = (i-j)+(j-i)
    (truncated subtraction). *)
Fixpoint nsum (n : nat) (f : nat -> nat) : nat :=
  match n with O => O | S m => (nsum m f + f m)%nat end.

Definition dnat (i j : nat) : nat := ((i - j) + (j - i))%nat.

Lemma INR_dnat i j : INR (dnat i j) = dmat i j.
Proof.
  unfold dnat, dmat. destruct (Nat.le_ge_cases i j) as [H|H].
  - replace (i - j)%nat with O by lia. rewrite Nat.add_0_l, minus_INR by exact H.
    assert (INR i <= INR j) by (apply le_INR; exact H).
    rewrite Rabs_left1 by lra. ring.
  - replace (j - i)%nat with O by lia. rewrite Nat.add_0_r, minus_INR by exact H.
    assert (INR j <= INR i) by (apply le_INR; exact H).
    rewrite Rabs_right by lra. ring.
Qed.

Lemma INR_nsum n f : INR (nsum n f) = sum n (fun i => INR (f i)).
Proof. induction n; simpl nsum; simpl sum; [reflexivity|rewrite plus_INR, IHn; reflexivity]. Qed.

Theorem ones_D_ones_nat (n : nat) :
  (3 * nsum n (fun i => nsum n (fun j => dnat i j)) = n * (n * n - 1))%nat.
Proof.
  apply INR_eq. rewrite mult_INR, INR_nsum.
  transitivity (3 * sum n (fun i => sum n (fun j => dmat i j))).
  - replace (INR 3) with 3 by (simpl; ring). f_equal. apply sum_ext; intros i _. rewrite INR_nsum. apply sum_ext; intros j _.
    apply INR_dnat.
  - rewrite ones_D_ones. destruct n as [|n].
    + simpl. lra.
    + rewrite mult_INR, minus_INR by (simpl; lia). rewrite mult_INR. simpl (INR 1). field.
Qed.

(** * T8(a) Step 1-2: sum-of-squares identity and negativity on the complement of 1.
    w_k = indicator of {0,...,k}; |i-j| = sum_{k<n-1} (w_k(i) - w_k(j))^2 for i, j < n. *)
Definition wind (k i : nat) : R := if Nat.leb i k then 1 else 0.

Lemma wind_idem k i : wind k i * wind k i = wind k i.
Proof. unfold wind. destruct (Nat.leb i k); ring. Qed.

Lemma wind_sq_sum (m i j : nat) :
  sum m (fun k => (wind k i - wind k j) * (wind k i - wind k j)) =
  Rabs (INR (Nat.min i m) - INR (Nat.min j m)).
Proof.
  induction m as [|m IH].
  - simpl sum. rewrite !Nat.min_0_r. replace (INR 0 - INR 0) with 0 by (simpl; ring). rewrite Rabs_R0. reflexivity.
  - simpl sum. rewrite IH. unfold wind.
    destruct (Nat.leb_spec i m) as [Hi|Hi]; destruct (Nat.leb_spec j m) as [Hj|Hj].
    + replace (Nat.min i (S m)) with i by lia. replace (Nat.min i m) with i by lia.
      replace (Nat.min j (S m)) with j by lia. replace (Nat.min j m) with j by lia. ring.
    + replace (Nat.min i (S m)) with i by lia. replace (Nat.min i m) with i by lia.
      replace (Nat.min j (S m)) with (S m) by lia. replace (Nat.min j m) with m by lia.
      assert (INR i <= INR m) by (apply le_INR; exact Hi). rewrite S_INR.
      rewrite Rabs_left1 by lra. rewrite Rabs_left1 by lra. ring.
    + replace (Nat.min i (S m)) with (S m) by lia. replace (Nat.min i m) with m by lia.
      replace (Nat.min j (S m)) with j by lia. replace (Nat.min j m) with j by lia.
      assert (INR j <= INR m) by (apply le_INR; exact Hj). rewrite S_INR.
      rewrite Rabs_right by lra. rewrite Rabs_right by lra. ring.
    + replace (Nat.min i (S m)) with (S m) by lia. replace (Nat.min i m) with m by lia.
      replace (Nat.min j (S m)) with (S m) by lia. replace (Nat.min j m) with m by lia.
      replace (INR (S m) - INR (S m)) with 0 by ring. replace (INR m - INR m) with 0 by ring. ring.
Qed.

Theorem dmat_sum_of_squares (n i j : nat) : (i < n)%nat -> (j < n)%nat ->
  dmat i j = sum (n - 1) (fun k => (wind k i - wind k j) * (wind k i - wind k j)).
Proof.
  intros Hi Hj. rewrite wind_sq_sum. unfold dmat.
  replace (Nat.min i (n - 1)) with i by lia. replace (Nat.min j (n - 1)) with j by lia. reflexivity.
Qed.

Lemma sum_prod n m f g :
  sum n (fun i => sum m (fun j => f i * g j)) = sum n f * sum m g.
Proof.
  transitivity (sum n (fun i => sum m g * f i)).
  - apply sum_ext; intros i _. rewrite Rmult_comm, <- sum_scal. apply sum_ext; intros; ring.
  - rewrite sum_scal. ring.
Qed.

Lemma qf_idem_diff (n : nat) (a x : nat -> R) : (forall i, a i * a i = a i) ->
  sum n (fun i => sum n (fun j => x i * ((a i - a j) * (a i - a j)) * x j)) =
  2 * sum n (fun i => a i * x i) * sum n x - 2 * (sum n (fun i => a i * x i) * sum n (fun i => a i * x i)).
Proof.
  intros Ha.
  transitivity (sum n (fun i => sum n (fun j => (a i * x i) * x j + x i * (a j * x j)
                                               + (-2) * ((a i * x i) * (a j * x j))))).
  - apply sum_ext; intros i _. apply sum_ext; intros j _.
    transitivity (x i * x j * (a i * a i) + x i * x j * (a j * a j) - 2 * (a i * x i) * (a j * x j)); [ring|].
    rewrite !Ha. ring.
  - transitivity (sum n (fun i => sum n (fun j => (a i * x i) * x j))
                + sum n (fun i => sum n (fun j => x i * (a j * x j)))
                + (-2) * sum n (fun i => sum n (fun j => (a i * x i) * (a j * x j)))).
    + rewrite <- sum_scal, <- !sum_add. apply sum_ext; intros i _.
      rewrite <- sum_scal, <- !sum_add. apply sum_ext; intros j _. ring.
    + rewrite !sum_prod. ring.
Qed.

Lemma sum_scal2 n c d f : c * sum n f * d = sum n (fun k => c * f k * d).
Proof.
  transitivity (sum n (fun k => (c * d) * f k)); [rewrite sum_scal; ring|].
  apply sum_ext; intros; ring.
Qed.

(** x^T D_n x = sum_{k<n-1} [ 2 (w_k.x)(1.x) - 2 (w_k.x)^2 ]. *)
Theorem qf_D_sos (n : nat) (x : nat -> R) :
  qf n dmat x = sum (n - 1) (fun k =>
     2 * sum n (fun i => wind k i * x i) * sum n x
     - 2 * (sum n (fun i => wind k i * x i) * sum n (fun i => wind k i * x i))).
Proof.
  unfold qf.
  transitivity (sum n (fun i => sum n (fun j => sum (n - 1) (fun k =>
                   x i * ((wind k i - wind k j) * (wind k i - wind k j)) * x j)))).
  - apply sum_ext; intros i Hi. apply sum_ext; intros j Hj.
    rewrite (dmat_sum_of_squares n i j Hi Hj). apply sum_scal2.
  - transitivity (sum n (fun i => sum (n - 1) (fun k => sum n (fun j =>
                   x i * ((wind k i - wind k j) * (wind k i - wind k j)) * x j)))).
    + apply sum_ext; intros i _. apply sum_swap.
    + rewrite sum_swap. apply sum_ext; intros k _. apply qf_idem_diff. intros; apply wind_idem.
Qed.

(** Negative semidefinite on 1^perp: if sum_i x_i = 0 then x^T D_n x = -2 sum_k (x_0+...+x_k)^2 <= 0. *)
Theorem qf_D_perp_ones (n : nat) (x : nat -> R) : sum n x = 0 ->
  qf n dmat x = -2 * sum (n - 1) (fun k => sum n (fun i => wind k i * x i) * sum n (fun i => wind k i * x i)).
Proof.
  intros H0. rewrite qf_D_sos, <- sum_scal. apply sum_ext; intros k _. rewrite H0. ring.
Qed.

Corollary qf_D_perp_ones_nonpos (n : nat) (x : nat -> R) : sum n x = 0 -> qf n dmat x <= 0.
Proof.
  intros H0. rewrite qf_D_perp_ones by exact H0.
  assert (0 <= sum (n - 1) (fun k => sum n (fun i => wind k i * x i) * sum n (fun i => wind k i * x i))).
  { rewrite <- (sum_zero (n - 1)). apply sum_le; intros; apply sq_nonneg. }
  lra.
Qed.

Lemma sum_nonneg_zero (m : nat) (f : nat -> R) :
  (forall i, (i < m)%nat -> 0 <= f i) -> sum m f = 0 -> forall i, (i < m)%nat -> f i = 0.
Proof.
  induction m as [|m IH]; intros Hpos Hs i Hi; [lia|].
  simpl in Hs.
  assert (0 <= sum m f) by (rewrite <- (sum_zero m); apply sum_le; intros; apply Hpos; lia).
  assert (0 <= f m) by (apply Hpos; lia).
  destruct (Nat.eq_dec i m) as [->|Hne]; [lra|].
  apply IH; [intros; apply Hpos; lia | lra | lia].
Qed.

Lemma wind_prefix (n k : nat) (x : nat -> R) : (k < n)%nat ->
  sum n (fun i => wind k i * x i) = sum (S k) x.
Proof.
  intros Hk. replace n with (S k + (n - S k))%nat by lia. rewrite sum_app.
  rewrite (sum_ext (S k) _ x) by (intros i Hi; unfold wind;
     replace (Nat.leb i k) with true by (symmetry; apply Nat.leb_le; lia); ring).
  rewrite (sum_ext (n - S k) _ (fun _ => 0)) by (intros l _; unfold wind;
     replace (Nat.leb (S k + l) k) with false by (symmetry; apply Nat.leb_gt; lia); ring).
  rewrite sum_zero. ring.
Qed.

(** T8(a) Step 2: x^T D_n x < 0 for every non-zero x with 1^T x = 0. *)
Theorem qf_D_perp_ones_neg (n : nat) (x : nat -> R) :
  sum n x = 0 -> (exists i, (i < n)%nat /\ x i <> 0) -> qf n dmat x < 0.
Proof.
  intros H0 [i0 [Hi0 Hx0]].
  destruct (Rle_lt_or_eq_dec _ _ (qf_D_perp_ones_nonpos n x H0)) as [Hlt|Heq]; [exact Hlt|].
  exfalso. apply Hx0.
  rewrite qf_D_perp_ones in Heq by exact H0.
  pose (W := fun k => sum n (fun i => wind k i * x i)).
  assert (HS : sum (n - 1) (fun k => W k * W k) = 0) by (unfold W; lra).
  assert (HW : forall k, (k < n - 1)%nat -> W k * W k = 0).
  { apply sum_nonneg_zero; [intros; apply sq_nonneg | exact HS]. }
  assert (HP : forall m, (m <= n)%nat -> sum m x = 0).
  { intros m Hm. destruct m as [|m]; [reflexivity|].
    destruct (Nat.eq_dec (S m) n) as [<-|Hne]; [exact H0|].
    rewrite <- (wind_prefix n m x) by lia. change (sum n (fun i => wind m i * x i)) with (W m).
    specialize (HW m ltac:(lia)). nra. }
  assert (E : x i0 = sum (S i0) x - sum i0 x) by (simpl sum; ring).
  rewrite E, HP, HP by lia. ring.
Qed.

(** tr D_n = 0 (used in T8(a) Step 3). *)
Theorem trace_D (n : nat) : sum n (fun i => dmat i i) = 0.
Proof.
  rewrite <- (sum_zero n). apply sum_ext; intros i _. unfold dmat.
  replace (INR i - INR i) with 0 by ring. apply Rabs_R0.
Qed.
