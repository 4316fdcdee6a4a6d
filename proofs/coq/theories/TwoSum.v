(** * Error-free transformations used by [crates/pespectra-arith/src/round.rs].

    Model: binary64 = Flocq [FLT_exp (-1074) 53], round to nearest ties-to-even
    ([Znearest (fun z => negb (Z.even z))], i.e. [ZnearestE]).  FLT has unbounded
    exponent range, so overflow is *excluded* from this model: the theorems apply to
    the Rust code exactly when no intermediate result is infinite (round.rs checks
    [s.is_finite()] / [p.is_finite()] before trusting the error). *)

From Coq Require Import Reals Psatz ZArith.
From Flocq Require Import Core Plus_error Mult_error Pff2Flocq.

Open Scope R_scope.

Definition emin : Z := (-1074)%Z.
Definition prec : Z := 53%Z.
Definition fexp := FLT_exp emin prec.
Definition choiceE (z : Z) : bool := negb (Z.even z).
Definition fmt (x : R) : Prop := generic_format radix2 fexp x.
Definition RN (x : R) : R := round radix2 fexp (Znearest choiceE) x.

#[global] Instance prec_gt_0 : Prec_gt_0 prec.
Proof. unfold Prec_gt_0, prec; lia. Qed.

Lemma choiceE_sym : forall z, choiceE z = negb (choiceE (- (z + 1))).
Proof.
  intros z; unfold choiceE.
  rewrite Z.even_opp, Z.even_add; simpl.
  destruct (Z.even z); reflexivity.
Qed.

Lemma RN_ZnearestE : forall x, RN x = round radix2 fexp ZnearestE x.
Proof. reflexivity. Qed.

Lemma fmt_RN : forall x, fmt (RN x).
Proof. intros x; unfold fmt, RN, fexp; apply generic_format_round; auto with typeclass_instances. Qed.

#[global] Instance fexp_valid : Valid_exp fexp.
Proof. unfold fexp; auto with typeclass_instances. Qed.

#[global] Instance fexp_monotone : Monotone_exp fexp.
Proof. unfold fexp; auto with typeclass_instances. Qed.

(** ** (a) Addition *)

(** The rounding error of a nearest sum of two floats is a float. *)
Theorem add_error_representable :
  forall a b, fmt a -> fmt b -> fmt (a + b - RN (a + b)).
Proof.
  intros a b Ha Hb.
  replace (a + b - RN (a + b)) with (- (RN (a + b) - (a + b))) by ring.
  apply generic_format_opp.
  apply plus_error; auto with typeclass_instances.
Qed.

(** Knuth's TwoSum exactly as written in [two_sum_err]:
<<
    let bp = s - a;  let ap = s - bp;  (a - ap) + (b - bp)
>> *)
Definition two_sum_err (a b s : R) : R :=
  let bp := RN (s - a) in
  let ap := RN (s - bp) in
  RN (RN (a - ap) + RN (b - bp)).

Theorem two_sum_err_exact :
  forall a b, fmt a -> fmt b ->
  two_sum_err a b (RN (a + b)) = a + b - RN (a + b).
Proof.
  intros a b Ha Hb.
  pose proof (TwoSum_correct emin prec choiceE ltac:(unfold prec; lia) ltac:(unfold emin; lia)
                choiceE_sym a b Ha Hb) as H.
  unfold two_sum_err, RN, fexp.
  cbv zeta in H |- *. lra.
Qed.

(** ** (b) Product error through FMA *)

(** A fused multiply-add rounds once: [fma a b c = RN (a*b + c)]. *)
Definition fma (a b c : R) : R := RN (a * b + c).

Theorem mul_error_representable :
  forall a b, fmt a -> fmt b ->
  (a * b <> 0 -> bpow radix2 (emin + 2 * prec - 1) <= Rabs (a * b)) ->
  fmt (a * b - RN (a * b)).
Proof.
  intros a b Ha Hb Hab.
  replace (a * b - RN (a * b)) with (- (RN (a * b) - a * b)) by ring.
  apply generic_format_opp.
  apply mult_error_FLT; auto with typeclass_instances.
Qed.

Theorem fma_mul_err_exact :
  forall a b, fmt a -> fmt b ->
  (a * b <> 0 -> bpow radix2 (emin + 2 * prec - 1) <= Rabs (a * b)) ->
  fma a b (- RN (a * b)) = a * b - RN (a * b).
Proof.
  intros a b Ha Hb Hab.
  unfold fma.
  replace (a * b + - RN (a * b)) with (a * b - RN (a * b)) by ring.
  apply round_generic; auto with typeclass_instances.
  now apply mul_error_representable.
Qed.

(** The hypothesis in concrete terms: [2^(-969) <= |a*b|] (or [a*b = 0]).
    round.rs uses the stronger test [|p| >= 1e-290] on the *rounded* product [p];
    since [1e-290 > 2^(-963)] and [|a*b| >= |p|(1 - 2^-52)] when [p] is normal,
    the code's test implies this hypothesis (see Directed.v, [eft_safe_min_ok]). *)
Lemma mul_hyp_value : (emin + 2 * prec - 1 = -969)%Z.
Proof. reflexivity. Qed.
