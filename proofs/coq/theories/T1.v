(* T1 — per-frequency similarity (proofs/T1.md), with mathcomp matrices over an arbitrary
   commutative ring. The complex statement (|u_i| = 1, kernel u u^H) is the instance
   w = conj u of the general statement below, since u_i * conj(u_i) = |u_i|^2 = 1.
   The real instance u_i in {+1,-1} (signature matrices) is the instance w = u. *)
From mathcomp Require Import all_ssreflect all_algebra.
Set Implicit Arguments.
Unset Strict Implicit.
Unset Printing Implicit Defensive.
Import GRing.Theory.
Local Open Scope ring_scope.

Section Similarity.
Variable R : comRingType.
Variable n : nat.

(** Hadamard (entrywise) product. *)
Definition hadamard (X Y : 'M[R]_n) : 'M[R]_n := \matrix_(i, j) (X i j * Y i j).

(** Rank-one kernel u w^T (for complex: w = conj u, i.e. u u^H). *)
Definition outer (u w : 'rV[R]_n) : 'M[R]_n := \matrix_(i, j) (u 0 i * w 0 j).

(** X o (u w^T) = diag(u) X diag(w), for any u, w. *)
Lemma hadamard_outer_diag (X : 'M[R]_n) (u w : 'rV[R]_n) :
  hadamard X (outer u w) = diag_mx u *m X *m diag_mx w.
Proof.
  apply/matrixP => i j; rewrite mul_mx_diag mul_diag_mx !mxE.
  by rewrite mulrCA mulrA.
Qed.

(** If u_i w_i = 1 for all i then diag(u) diag(w) = 1 (D is unitary, D^H = D^{-1}). *)
Lemma diag_inverse (u w : 'rV[R]_n) :
  (forall i, u 0 i * w 0 i = 1) -> diag_mx u *m diag_mx w = 1%:M.
Proof.
  move=> Huw; apply/matrixP => i j; rewrite mul_diag_mx !mxE.
  case: (eqVneq i j) => [->|ne]; first by rewrite mulr1n Huw.
  by rewrite mulr0n mulr0.
Qed.

(** Similar matrices have the same characteristic polynomial. *)
Lemma char_poly_similar (P Pinv X : 'M[R]_n) :
  Pinv *m P = 1%:M -> P *m Pinv = 1%:M -> char_poly (P *m X *m Pinv) = char_poly X.
Proof.
  move=> HPl HPr.
  set P' := map_mx (@polyC R) P; set Pinv' := map_mx (@polyC R) Pinv.
  have HPl' : Pinv' *m P' = 1%:M by rewrite -map_mxM HPl map_scalar_mx.
  have HPr' : P' *m Pinv' = 1%:M by rewrite -map_mxM HPr map_scalar_mx.
  have E : char_poly_mx (P *m X *m Pinv) = P' *m char_poly_mx X *m Pinv'.
    rewrite /char_poly_mx !map_mxM mulmxBr mulmxBl -/P' -/Pinv'.
    by rewrite mul_mx_scalar -scalemxAl HPr' scalemx1.
  rewrite /char_poly E !det_mulmx mulrC mulrA -det_mulmx HPl' det1 mul1r //.
Qed.

(** T1: for u, w with u_i w_i = 1 (complex: w = conj u, |u_i| = 1),
    X o (u w^T) = D X D^{-1} with D = diag(u), D^{-1} = diag(w),
    hence char_poly (X o (u w^T)) = char_poly X. *)
Theorem T1_similarity (X : 'M[R]_n) (u w : 'rV[R]_n) :
  (forall i, u 0 i * w 0 i = 1) ->
  [/\ hadamard X (outer u w) = diag_mx u *m X *m diag_mx w,
      diag_mx u *m diag_mx w = 1%:M,
      diag_mx w *m diag_mx u = 1%:M &
      char_poly (hadamard X (outer u w)) = char_poly X].
Proof.
  move=> Huw.
  have Hwu : forall i, w 0 i * u 0 i = 1 by move=> i; rewrite mulrC.
  have H1 := diag_inverse Huw; have H2 := diag_inverse Hwu.
  split => //; first exact: hadamard_outer_diag.
  by rewrite hadamard_outer_diag char_poly_similar.
Qed.

(** Real signature instance: u_i^2 = 1 (u_i = +-1), kernel u u^T, D = diag(u), D D = 1. *)
Corollary T1_signature (X : 'M[R]_n) (u : 'rV[R]_n) :
  (forall i, u 0 i * u 0 i = 1) ->
  [/\ hadamard X (outer u u) = diag_mx u *m X *m diag_mx u,
      diag_mx u *m diag_mx u = 1%:M &
      char_poly (hadamard X (outer u u)) = char_poly X].
Proof. by move=> Hu; case: (T1_similarity X Hu). Qed.

End Similarity.

(** * The complex statement of T1, over any numClosedFieldType C (an algebraically closed
    field with a conjugation x |-> x^* and modulus `|x|, e.g. mathcomp's algC).
    u^H is the conjugate row (map_mx conjC u), D^H = (map_mx conjC D)^T. *)
Section UnitModulus.
Import Num.Theory.
Variable C : numClosedFieldType.
Variable n : nat.

Definition adjoint (M : 'M[C]_n) : 'M[C]_n := (map_mx conjC M)^T.

Theorem T1_unit_modulus (X : 'M[C]_n) (u : 'rV[C]_n) :
  (forall i, `|u 0 i| = 1) ->
  [/\ hadamard X (outer u (map_mx conjC u)) = diag_mx u *m X *m adjoint (diag_mx u),
      diag_mx u *m adjoint (diag_mx u) = 1%:M,
      adjoint (diag_mx u) *m diag_mx u = 1%:M &
      char_poly (hadamard X (outer u (map_mx conjC u))) = char_poly X].
Proof.
  move=> Hu.
  have Hadj : adjoint (diag_mx u) = diag_mx (map_mx conjC u)
    by rewrite /adjoint map_diag_mx tr_diag_mx.
  have Huw : forall i, u 0 i * (map_mx conjC u) 0 i = 1.
    by move=> i; rewrite mxE -normCK Hu expr1n.
  rewrite Hadj; exact: T1_similarity.
Qed.

End UnitModulus.
