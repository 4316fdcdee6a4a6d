(** * Directed rounding by one neighbour step (round.rs: [finish_up]/[finish_down],
      [add_up]/[add_down]/[sub_up]/[sub_down], [mul_up]/[mul_down]).

    Same model as TwoSum.v: binary64 = FLT(-1074, 53), RN = ties-to-even.
    [next_up]/[next_down] of a finite float are Flocq's [succ]/[pred].
    Not modelled: NaN and infinities (FLT has none; in the code the non-finite
    branches go to [widen_up]/[widen_down], i.e. the [None] branch below, and
    NaN -> +inf/-inf, which is trivially sound), and overflow in general. *)

From Coq Require Import Reals Psatz ZArith.
From Flocq Require Import Core.
From Pespectra Require Import TwoSum.

Open Scope R_scope.

Definition RU (x : R) : R := round radix2 fexp Zceil x.
Definition RD (x : R) : R := round radix2 fexp Zfloor x.
Definition next_up (x : R) : R := succ radix2 fexp x.
Definition next_down (x : R) : R := pred radix2 fexp x.

Lemma RN_DN_or_UP : forall x, RN x = RD x \/ RN x = RU x.
Proof.
  intros x; unfold RN, RD, RU.
  apply round_DN_or_UP; auto with typeclass_instances.
Qed.

Lemma RD_le : forall x, RD x <= x.
Proof. intros x; unfold RD; apply round_DN_pt; auto with typeclass_instances. Qed.

Lemma RU_ge : forall x, x <= RU x.
Proof. intros x; unfold RU; apply round_UP_pt; auto with typeclass_instances. Qed.

(** ** The neighbour lemma *)

Theorem directed_from_error_pos :
  forall x, x - RN x > 0 -> RU x = next_up (RN x) /\ RD x = RN x.
Proof.
  intros x He.
  assert (HD : RN x = RD x).
  { destruct (RN_DN_or_UP x) as [H|H]; auto.
    pose proof (RU_ge x); lra. }
  assert (Hnf : ~ fmt x).
  { intros Hf. unfold RN in He.
    rewrite round_generic in He; auto with typeclass_instances; lra. }
  split; auto.
  rewrite HD; unfold next_up, RD, RU.
  symmetry; apply succ_DN_eq_UP; auto with typeclass_instances.
Qed.

Theorem directed_from_error_neg :
  forall x, x - RN x < 0 -> RD x = next_down (RN x) /\ RU x = RN x.
Proof.
  intros x He.
  assert (HU : RN x = RU x).
  { destruct (RN_DN_or_UP x) as [H|H]; auto.
    pose proof (RD_le x); lra. }
  assert (Hnf : ~ fmt x).
  { intros Hf. unfold RN in He.
    rewrite round_generic in He; auto with typeclass_instances; lra. }
  split; auto.
  rewrite HU; unfold next_down, RD, RU.
  symmetry; apply pred_UP_eq_DN; auto with typeclass_instances.
Qed.

Theorem directed_from_error_zero :
  forall x, x - RN x = 0 -> RU x = RN x /\ RD x = RN x.
Proof.
  intros x He.
  assert (Hx : x = RN x) by lra.
  assert (Hf : fmt x) by (rewrite Hx; apply fmt_RN).
  unfold RU, RD; rewrite !round_generic; auto with typeclass_instances.
Qed.

(** The unconditional widening is always a valid bound. *)
Lemma next_up_RN_ge : forall x, x <= next_up (RN x).
Proof.
  intros x.
  apply Rle_trans with (1 := RU_ge x).
  apply Rle_trans with (next_up (RD x)).
  - unfold RU, next_up, RD; apply UP_le_succ_DN; auto with typeclass_instances.
  - unfold next_up; apply succ_le; auto with typeclass_instances.
    + unfold RD; apply generic_format_round; auto with typeclass_instances.
    + apply fmt_RN.
    + destruct (RN_DN_or_UP x) as [H|H]; rewrite H; [lra|].
      pose proof (RD_le x); pose proof (RU_ge x); lra.
Qed.

Lemma next_down_RN_le : forall x, next_down (RN x) <= x.
Proof.
  intros x.
  apply Rle_trans with (2 := RD_le x).
  apply Rle_trans with (next_down (RU x)).
  - unfold next_down; apply pred_le; auto with typeclass_instances.
    + apply fmt_RN.
    + unfold RU; apply generic_format_round; auto with typeclass_instances.
    + destruct (RN_DN_or_UP x) as [H|H]; rewrite H.
      * apply Rle_trans with x; [apply RD_le | apply RU_ge].
      * apply Rle_refl.
  - unfold RU, next_down, RD; apply pred_UP_le_DN; auto with typeclass_instances.
Qed.

(** ** The code's control flow *)

(** [direction err]: [Some (err ? 0)] for a (non-NaN) float error; [None] = unknown. *)
Definition finish_up (r : R) (dir : option comparison) : R :=
  match dir with
  | Some Gt => next_up r
  | Some _ => r
  | None => next_up r          (* widen_up on a finite r *)
  end.

Definition finish_down (r : R) (dir : option comparison) : R :=
  match dir with
  | Some Lt => next_down r
  | Some _ => r
  | None => next_down r        (* widen_down on a finite r *)
  end.

(** If [dir] is the true sign of [x - RN x], the finishers give RU/RD exactly. *)
Lemma finish_up_exact :
  forall x, finish_up (RN x) (Some (Rcompare (x - RN x) 0)) = RU x.
Proof.
  intros x; simpl.
  destruct (Rcompare_spec (x - RN x) 0) as [H|H|H].
  - symmetry; apply (directed_from_error_neg x H).
  - symmetry; apply (directed_from_error_zero x H).
  - symmetry; apply (directed_from_error_pos x H).
Qed.

Lemma finish_down_exact :
  forall x, finish_down (RN x) (Some (Rcompare (x - RN x) 0)) = RD x.
Proof.
  intros x; simpl.
  destruct (Rcompare_spec (x - RN x) 0) as [H|H|H].
  - symmetry; apply (directed_from_error_neg x H).
  - symmetry; apply (directed_from_error_zero x H).
  - symmetry; apply (directed_from_error_pos x H).
Qed.

(** *** Addition.  In FLT, [s] is always finite, so [add_dir] = [direction (two_sum_err ..)]. *)
Definition add_dir (a b s : R) : option comparison :=
  Some (Rcompare (two_sum_err a b s) 0).

Definition add_up (a b : R) : R := let s := RN (a + b) in finish_up s (add_dir a b s).
Definition add_down (a b : R) : R := let s := RN (a + b) in finish_down s (add_dir a b s).
Definition sub_up (a b : R) : R := add_up a (- b).
Definition sub_down (a b : R) : R := add_down a (- b).

Theorem add_up_correct : forall a b, fmt a -> fmt b -> add_up a b = RU (a + b).
Proof.
  intros a b Ha Hb; unfold add_up, add_dir.
  rewrite two_sum_err_exact by assumption.
  apply finish_up_exact.
Qed.

Theorem add_down_correct : forall a b, fmt a -> fmt b -> add_down a b = RD (a + b).
Proof.
  intros a b Ha Hb; unfold add_down, add_dir.
  rewrite two_sum_err_exact by assumption.
  apply finish_down_exact.
Qed.

Theorem sub_up_correct : forall a b, fmt a -> fmt b -> sub_up a b = RU (a - b).
Proof.
  intros a b Ha Hb; unfold sub_up; rewrite add_up_correct; auto.
  now apply generic_format_opp.
Qed.

Theorem sub_down_correct : forall a b, fmt a -> fmt b -> sub_down a b = RD (a - b).
Proof.
  intros a b Ha Hb; unfold sub_down; rewrite add_down_correct; auto.
  now apply generic_format_opp.
Qed.

(** *** Multiplication.  [tmin] is the float value of [EFT_SAFE_MIN = 1e-290];
    all we use is [2^-968 <= tmin] (indeed 1e-290 ~ 2^-963.3).  The
    [!p.is_finite()] test is vacuous in FLT. *)
Section Mul.
Variable tmin : R.
Hypothesis tmin_big : bpow radix2 (-968) <= tmin.

Definition mul_dir (a b p : R) : option comparison :=
  if Req_EM_T p 0 then
    (if Req_EM_T a 0 then Some Eq else if Req_EM_T b 0 then Some Eq
     else if Rlt_dec (Rabs p) tmin then None else Some (Rcompare (fma a b (- p)) 0))
  else if Rlt_dec (Rabs p) tmin then None
  else Some (Rcompare (fma a b (- p)) 0).

Definition mul_up (a b : R) : R := let p := RN (a * b) in finish_up p (mul_dir a b p).
Definition mul_down (a b : R) : R := let p := RN (a * b) in finish_down p (mul_dir a b p).

(** The code's guard [|p| >= tmin] implies the hypothesis of [fma_mul_err_exact]. *)
Lemma eft_safe_min_ok :
  forall x, tmin <= Rabs (RN x) -> bpow radix2 (emin + 2 * prec - 1) <= Rabs x.
Proof.
  intros x H.
  rewrite mul_hyp_value.
  destruct (Rlt_or_le (Rabs x) (bpow radix2 (-969))) as [Hlt|Hle]; auto.
  exfalso.
  assert (Hf : fmt (bpow radix2 (-969))).
  { apply generic_format_bpow; unfold fexp, FLT_exp, emin, prec; simpl; lia. }
  assert (Hm : Rabs (RN x) <= bpow radix2 (-969)).
  { rewrite RN_ZnearestE, <- round_NE_abs by auto with typeclass_instances.
    rewrite <- (round_generic radix2 fexp ZnearestE (bpow radix2 (-969))) by auto with typeclass_instances.
    apply round_le; auto with typeclass_instances; lra. }
  assert (bpow radix2 (-969) < bpow radix2 (-968)) by (apply bpow_lt; lia).
  lra.
Qed.

Lemma mul_dir_sound :
  forall a b, fmt a -> fmt b ->
  forall d, mul_dir a b (RN (a * b)) = Some d ->
  d = Rcompare (a * b - RN (a * b)) 0.
Proof.
  intros a b Ha Hb d.
  assert (Hfma : tmin <= Rabs (RN (a * b)) ->
                 fma a b (- RN (a * b)) = a * b - RN (a * b)).
  { intros Ht; apply fma_mul_err_exact; auto.
    intros _; now apply eft_safe_min_ok. }
  unfold mul_dir.
  destruct (Req_EM_T (RN (a * b)) 0) as [Hp|Hp].
  - destruct (Req_EM_T a 0) as [Ha0|Ha0].
    { intros H; injection H; intros <-; rewrite Hp, Ha0.
      symmetry; apply Rcompare_Eq; ring. }
    destruct (Req_EM_T b 0) as [Hb0|Hb0].
    { intros H; injection H; intros <-; rewrite Hp, Hb0.
      symmetry; apply Rcompare_Eq; ring. }
    destruct (Rlt_dec (Rabs (RN (a * b))) tmin) as [_|Hn]; [discriminate|].
    intros H; injection H; intros <-; rewrite Hfma; auto; lra.
  - destruct (Rlt_dec (Rabs (RN (a * b))) tmin) as [_|Hn]; [discriminate|].
    intros H; injection H; intros <-; rewrite Hfma; auto; lra.
Qed.

(** When the code trusts the FMA residual (no fallback), mul_up/mul_down are exact RU/RD. *)
Theorem mul_up_correct :
  forall a b, fmt a -> fmt b -> mul_dir a b (RN (a * b)) <> None ->
  mul_up a b = RU (a * b).
Proof.
  intros a b Ha Hb Hn; unfold mul_up.
  destruct (mul_dir a b (RN (a * b))) as [d|] eqn:E; [|congruence].
  rewrite (mul_dir_sound a b Ha Hb d E).
  apply finish_up_exact.
Qed.

Theorem mul_down_correct :
  forall a b, fmt a -> fmt b -> mul_dir a b (RN (a * b)) <> None ->
  mul_down a b = RD (a * b).
Proof.
  intros a b Ha Hb Hn; unfold mul_down.
  destruct (mul_dir a b (RN (a * b))) as [d|] eqn:E; [|congruence].
  rewrite (mul_dir_sound a b Ha Hb d E).
  apply finish_down_exact.
Qed.

(** In every branch (including the fallback [None] = tiny product) the result is a
    valid bound, and at most one step beyond RU/RD. *)
Theorem mul_up_sound :
  forall a b, fmt a -> fmt b -> a * b <= mul_up a b.
Proof.
  intros a b Ha Hb.
  destruct (mul_dir a b (RN (a * b))) as [d|] eqn:E.
  - rewrite mul_up_correct by (auto; congruence). apply RU_ge.
  - unfold mul_up; rewrite E; simpl. apply next_up_RN_ge.
Qed.

Theorem mul_down_sound :
  forall a b, fmt a -> fmt b -> mul_down a b <= a * b.
Proof.
  intros a b Ha Hb.
  destruct (mul_dir a b (RN (a * b))) as [d|] eqn:E.
  - rewrite mul_down_correct by (auto; congruence). apply RD_le.
  - unfold mul_down; rewrite E; simpl. apply next_down_RN_le.
Qed.

End Mul.

(** The same finishers make any RN-computed operation sound when the direction is unknown. *)
Theorem finish_up_none_sound : forall x, x <= finish_up (RN x) None.
Proof. intros x; apply next_up_RN_ge. Qed.

Theorem finish_down_none_sound : forall x, finish_down (RN x) None <= x.
Proof. intros x; apply next_down_RN_le. Qed.

(** The code's constant [EFT_SAFE_MIN = 1e-290] (its binary64 value RN(10^-290))
    satisfies the section hypothesis [tmin_big]. *)
Lemma eft_safe_min_value : bpow radix2 (-968) <= RN (/ IZR (10 ^ 290)).
Proof.
  assert (Hf : fmt (bpow radix2 (-968))).
  { apply generic_format_bpow; unfold fexp, FLT_exp, emin, prec; simpl; lia. }
  unfold RN.
  rewrite <- (round_generic radix2 fexp (Znearest choiceE) (bpow radix2 (-968))) at 1
    by auto with typeclass_instances.
  apply round_le; auto with typeclass_instances.
  change (bpow radix2 (-968)) with (/ IZR (Z.pow_pos 2 968)).
  apply Rinv_le_contravar.
  - apply IZR_lt; reflexivity.
  - apply IZR_le. vm_compute. discriminate.
Qed.

(** The routines with the code's actual threshold. *)
Definition EFT_SAFE_MIN : R := RN (/ IZR (10 ^ 290)).

Corollary mul_up_code_correct :
  forall a b, fmt a -> fmt b -> mul_dir EFT_SAFE_MIN a b (RN (a * b)) <> None ->
  mul_up EFT_SAFE_MIN a b = RU (a * b).
Proof. intros; apply mul_up_correct; auto; apply eft_safe_min_value. Qed.

Corollary mul_down_code_correct :
  forall a b, fmt a -> fmt b -> mul_dir EFT_SAFE_MIN a b (RN (a * b)) <> None ->
  mul_down EFT_SAFE_MIN a b = RD (a * b).
Proof. intros; apply mul_down_correct; auto; apply eft_safe_min_value. Qed.

Corollary mul_up_code_sound :
  forall a b, fmt a -> fmt b -> a * b <= mul_up EFT_SAFE_MIN a b.
Proof. intros; apply mul_up_sound; auto; apply eft_safe_min_value. Qed.

Corollary mul_down_code_sound :
  forall a b, fmt a -> fmt b -> mul_down EFT_SAFE_MIN a b <= a * b.
Proof. intros; apply mul_down_sound; auto; apply eft_safe_min_value. Qed.

(** Fallback width: the [None] branch is at most one step beyond the exact directed result. *)
Lemma mul_up_le_next_up_RU :
  forall a b, fmt a -> fmt b -> mul_up EFT_SAFE_MIN a b <= next_up (RU (a * b)).
Proof.
  intros a b Ha Hb.
  destruct (mul_dir EFT_SAFE_MIN a b (RN (a * b))) as [d|] eqn:E.
  - rewrite mul_up_code_correct by (auto; congruence).
    unfold next_up; apply succ_ge_id.
  - unfold mul_up; rewrite E; simpl. unfold next_up.
    apply succ_le; auto with typeclass_instances.
    + apply fmt_RN.
    + unfold RU; apply generic_format_round; auto with typeclass_instances.
    + destruct (RN_DN_or_UP (a * b)) as [H|H]; rewrite H; [|lra].
      pose proof (RD_le (a * b)); pose proof (RU_ge (a * b)); lra.
Qed.
