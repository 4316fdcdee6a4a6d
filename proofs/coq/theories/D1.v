(* D1 — RoPE logit identity (proofs/D1.md), over Coq's Reals.
   Vectors are functions nat -> R; complex numbers are pairs of reals. *)
From Coq Require Import Reals Lra Lia Arith.
Open Scope R_scope.

(** * Finite sums: [sum n f] = f 0 + ... + f (n-1). *)
Fixpoint sum (n : nat) (f : nat -> R) : R :=
  match n with O => 0 | S m => sum m f + f m end.

Lemma sum_ext n f g : (forall i, (i < n)%nat -> f i = g i) -> sum n f = sum n g.
Proof.
  induction n as [|n IH]; intros H; simpl; [reflexivity|].
  rewrite IH by (intros; apply H; lia). rewrite H by lia. reflexivity.
Qed.

Lemma sum_add n f g : sum n (fun i => f i + g i) = sum n f + sum n g.
Proof. induction n; simpl; [lra|rewrite IHn; lra]. Qed.

Lemma sum_scal n c f : sum n (fun i => c * f i) = c * sum n f.
Proof. induction n; simpl; [lra|rewrite IHn; lra]. Qed.

Lemma sum_zero n : sum n (fun _ => 0) = 0.
Proof. induction n; simpl; [lra|rewrite IHn; lra]. Qed.

Lemma sum_swap n m (f : nat -> nat -> R) :
  sum n (fun i => sum m (fun j => f i j)) = sum m (fun j => sum n (fun i => f i j)).
Proof.
  induction n as [|n IH]; simpl.
  - rewrite sum_zero; reflexivity.
  - rewrite IH, <- sum_add. reflexivity.
Qed.

Lemma sum_le n f g : (forall i, (i < n)%nat -> f i <= g i) -> sum n f <= sum n g.
Proof.
  induction n as [|n IH]; intros H; simpl; [lra|].
  assert (sum n f <= sum n g) by (apply IH; intros; apply H; lia).
  assert (f n <= g n) by (apply H; lia). lra.
Qed.

Lemma sum_app m n f : sum (m + n) f = sum m f + sum n (fun k => f (m + k)%nat).
Proof.
  induction n as [|n IH]; simpl.
  - rewrite Nat.add_0_r; lra.
  - rewrite Nat.add_succ_r; simpl; rewrite IH; lra.
Qed.

Lemma sum_pairs F f : sum (2 * F) f = sum F (fun k => f (2 * k)%nat + f (2 * k + 1)%nat).
Proof.
  induction F as [|F IH]; [reflexivity|].
  replace (2 * S F)%nat with (S (S (2 * F))) by lia.
  change (sum (S (S (2 * F))) f) with (sum (2 * F) f + f (2 * F)%nat + f (S (2 * F))).
  change (sum (S F) (fun k => f (2 * k)%nat + f (2 * k + 1)%nat))
    with (sum F (fun k => f (2 * k)%nat + f (2 * k + 1)%nat) + (f (2 * F)%nat + f (2 * F + 1)%nat)).
  rewrite IH. replace (2 * F + 1)%nat with (S (2 * F)) by lia. lra.
Qed.

(** * Complex numbers as pairs of reals. *)
Record C := mkC { re : R; im : R }.
Definition Cmul (a b : C) : C :=
  mkC (re a * re b - im a * im b) (re a * im b + im a * re b).
Definition Cconj (a : C) : C := mkC (re a) (- im a).
(** e^{i phi} *)
Definition Cexp (phi : R) : C := mkC (cos phi) (sin phi).

(** Re(conj(x + i y) (x' + i y') e^{i phi}), spelled out. *)
Lemma re_conj_mul_exp x y x' y' phi :
  re (Cmul (Cmul (Cconj (mkC x y)) (mkC x' y')) (Cexp phi))
  = (x * x' + y * y') * cos phi - (x * y' - y * x') * sin phi.
Proof. unfold Cmul, Cconj, Cexp; simpl; ring. Qed.

(** Rotation of one pair (v_x, v_y) by the angle phi (D1.md):
    (v_x, v_y) |-> (v_x cos phi - v_y sin phi, v_x sin phi + v_y cos phi). *)
Definition rotx (x y phi : R) : R := x * cos phi - y * sin phi.
Definition roty (x y phi : R) : R := x * sin phi + y * cos phi.

(** The contribution of one rotated pair equals Re(conj(a) b e^{i(n-m)theta}). *)
Lemma pair_rot_dot x y x' y' m n th :
  rotx x y (m * th) * rotx x' y' (n * th) + roty x y (m * th) * roty x' y' (n * th)
  = re (Cmul (Cmul (Cconj (mkC x y)) (mkC x' y')) (Cexp ((n - m) * th))).
Proof.
  rewrite re_conj_mul_exp. unfold rotx, roty.
  replace ((n - m) * th) with (n * th - m * th) by ring.
  rewrite cos_minus, sin_minus. ring.
Qed.

(** Euclidean inner product on R^d. *)
Definition dot (d : nat) (u v : nat -> R) : R := sum d (fun i => u i * v i).

(** * Interleaved (GPT-J) pairing: pair f = coordinates (2f, 2f+1), f < F.
    Coordinates >= 2F are passed through. [th f] is the f-th frequency, [p] the position. *)
Definition rope_adj (F : nat) (th : nat -> R) (p : R) (v : nat -> R) (i : nat) : R :=
  if (i <? 2 * F)%nat then
    let f := Nat.div2 i in
    if Nat.even i then rotx (v (2 * f)%nat) (v (2 * f + 1)%nat) (p * th f)
    else roty (v (2 * f)%nat) (v (2 * f + 1)%nat) (p * th f)
  else v i.

(** complex pair a^f = v_{2f} + i v_{2f+1} *)
Definition cadj (v : nat -> R) (f : nat) : C := mkC (v (2 * f)%nat) (v (2 * f + 1)%nat).

Lemma div2_2f f : Nat.div2 (2 * f) = f.
Proof. apply Nat.div2_double. Qed.
Lemma div2_2f1 f : Nat.div2 (2 * f + 1) = f.
Proof. replace (2 * f + 1)%nat with (S (2 * f)) by lia. apply Nat.div2_succ_double. Qed.
Lemma even_2f f : Nat.even (2 * f) = true.
Proof. apply Nat.even_spec. exists f; lia. Qed.
Lemma even_2f1 f : Nat.even (2 * f + 1) = false.
Proof. rewrite Nat.even_add, even_2f. reflexivity. Qed.

(** D1, interleaved pairing, with P pass-through coordinates (d = 2F + P):
    <R(m theta) q, R(n theta) k> = sum_f Re(conj(a_f) b_f e^{i(n-m) theta_f}) + sum_{c in P} q_c k_c. *)
Theorem rope_logit_interleaved (F P : nat) (th : nat -> R) (m n : R) (q k : nat -> R) :
  dot (2 * F + P) (rope_adj F th m q) (rope_adj F th n k)
  = sum F (fun f => re (Cmul (Cmul (Cconj (cadj q f)) (cadj k f)) (Cexp ((n - m) * th f))))
    + sum P (fun c => q (2 * F + c)%nat * k (2 * F + c)%nat).
Proof.
  unfold dot. rewrite sum_app, sum_pairs. f_equal.
  - apply sum_ext; intros f Hf. unfold rope_adj, cadj.
    assert (H1 : (2 * f <? 2 * F)%nat = true) by (apply Nat.ltb_lt; lia).
    assert (H2 : (2 * f + 1 <? 2 * F)%nat = true) by (apply Nat.ltb_lt; lia).
    rewrite H1, H2, div2_2f, div2_2f1, even_2f, even_2f1. apply pair_rot_dot.
  - apply sum_ext; intros c Hc. unfold rope_adj.
    assert (H1 : (2 * F + c <? 2 * F)%nat = false) by (apply Nat.ltb_ge; lia).
    rewrite H1. reflexivity.
Qed.

(** Same, expanded into cos and sin. *)
Corollary rope_logit_interleaved_expanded (F P : nat) (th : nat -> R) (m n : R) (q k : nat -> R) :
  dot (2 * F + P) (rope_adj F th m q) (rope_adj F th n k)
  = sum F (fun f =>
        (q (2 * f)%nat * k (2 * f)%nat + q (2 * f + 1)%nat * k (2 * f + 1)%nat) * cos ((n - m) * th f)
      - (q (2 * f)%nat * k (2 * f + 1)%nat - q (2 * f + 1)%nat * k (2 * f)%nat) * sin ((n - m) * th f))
    + sum P (fun c => q (2 * F + c)%nat * k (2 * F + c)%nat).
Proof.
  rewrite rope_logit_interleaved. f_equal. apply sum_ext; intros f _.
  unfold cadj. apply re_conj_mul_exp.
Qed.

(** * Half-split (GPT-NeoX / Llama rotate_half) pairing: pair f = coordinates (f, f+F). *)
Definition rope_half (F : nat) (th : nat -> R) (p : R) (v : nat -> R) (i : nat) : R :=
  if (i <? F)%nat then rotx (v i) (v (i + F)%nat) (p * th i)
  else if (i <? 2 * F)%nat then roty (v (i - F)%nat) (v i) (p * th (i - F)%nat)
  else v i.

(** complex pair a^f = v_f + i v_{f+F} *)
Definition chalf (F : nat) (v : nat -> R) (f : nat) : C := mkC (v f) (v (f + F)%nat).

Theorem rope_logit_half_split (F P : nat) (th : nat -> R) (m n : R) (q k : nat -> R) :
  dot (2 * F + P) (rope_half F th m q) (rope_half F th n k)
  = sum F (fun f => re (Cmul (Cmul (Cconj (chalf F q f)) (chalf F k f)) (Cexp ((n - m) * th f))))
    + sum P (fun c => q (2 * F + c)%nat * k (2 * F + c)%nat).
Proof.
  unfold dot. rewrite sum_app. f_equal.
  - replace (2 * F)%nat with (F + F)%nat by lia. rewrite sum_app, <- sum_add.
    apply sum_ext; intros f Hf. unfold rope_half, chalf.
    assert (H1 : (f <? F)%nat = true) by (apply Nat.ltb_lt; lia).
    assert (H2 : (F + f <? F)%nat = false) by (apply Nat.ltb_ge; lia).
    assert (H3 : (F + f <? F + F)%nat = true) by (apply Nat.ltb_lt; lia).
    replace (2 * F)%nat with (F + F)%nat by lia.
    rewrite H1, H2, H3. replace (F + f - F)%nat with f by lia.
    replace (F + f)%nat with (f + F)%nat by lia. apply pair_rot_dot.
  - apply sum_ext; intros c Hc. unfold rope_half.
    assert (H1 : (2 * F + c <? F)%nat = false) by (apply Nat.ltb_ge; lia).
    assert (H2 : (2 * F + c <? 2 * F)%nat = false) by (apply Nat.ltb_ge; lia).
    rewrite H1, H2. reflexivity.
Qed.

Corollary rope_logit_half_split_expanded (F P : nat) (th : nat -> R) (m n : R) (q k : nat -> R) :
  dot (2 * F + P) (rope_half F th m q) (rope_half F th n k)
  = sum F (fun f =>
        (q f * k f + q (f + F)%nat * k (f + F)%nat) * cos ((n - m) * th f)
      - (q f * k (f + F)%nat - q (f + F)%nat * k f) * sin ((n - m) * th f))
    + sum P (fun c => q (2 * F + c)%nat * k (2 * F + c)%nat).
Proof.
  rewrite rope_logit_half_split. f_equal. apply sum_ext; intros f _.
  unfold chalf. apply re_conj_mul_exp.
Qed.

(** * Matrix form. Q, K : rows (position i, coordinate c). Positions are naturals
    (INR i). G^f_{ij} = conj(a_i^f) b_j^f, E^f_{ij} = e^{i (j - i) theta_f}. *)
Definition Gadj (Q K : nat -> nat -> R) (f i j : nat) : C := Cmul (Cconj (cadj (Q i) f)) (cadj (K j) f).
Definition Ghalf (F : nat) (Q K : nat -> nat -> R) (f i j : nat) : C :=
  Cmul (Cconj (chalf F (Q i) f)) (chalf F (K j) f).
Definition Ekern (th : nat -> R) (f i j : nat) : C := Cexp ((INR j - INR i) * th f).

Definition L_adj F P th (Q K : nat -> nat -> R) (i j : nat) : R :=
  dot (2 * F + P) (rope_adj F th (INR i) (Q i)) (rope_adj F th (INR j) (K j)).
Definition L_half F P th (Q K : nat -> nat -> R) (i j : nat) : R :=
  dot (2 * F + P) (rope_half F th (INR i) (Q i)) (rope_half F th (INR j) (K j)).

(** L_RoPE = sum_f Re(G^f o E^f) + Q_P K_P^T, entrywise, both pairings. *)
Corollary logit_matrix_interleaved F P th Q K i j :
  L_adj F P th Q K i j
  = sum F (fun f => re (Cmul (Gadj Q K f i j) (Ekern th f i j)))
    + sum P (fun c => Q i (2 * F + c)%nat * K j (2 * F + c)%nat).
Proof. unfold L_adj. apply rope_logit_interleaved. Qed.

Corollary logit_matrix_half_split F P th Q K i j :
  L_half F P th Q K i j
  = sum F (fun f => re (Cmul (Ghalf F Q K f i j) (Ekern th f i j)))
    + sum P (fun c => Q i (2 * F + c)%nat * K j (2 * F + c)%nat).
Proof. unfold L_half. apply rope_logit_half_split. Qed.

(** Real and imaginary parts of G^f and E^f spelled out. *)
Lemma Gadj_parts Q K f i j :
  re (Gadj Q K f i j) = Q i (2 * f)%nat * K j (2 * f)%nat + Q i (2 * f + 1)%nat * K j (2 * f + 1)%nat /\
  im (Gadj Q K f i j) = Q i (2 * f)%nat * K j (2 * f + 1)%nat - Q i (2 * f + 1)%nat * K j (2 * f)%nat.
Proof. unfold Gadj, cadj, Cmul, Cconj; simpl; split; ring. Qed.

Lemma Ghalf_parts F Q K f i j :
  re (Ghalf F Q K f i j) = Q i f * K j f + Q i (f + F)%nat * K j (f + F)%nat /\
  im (Ghalf F Q K f i j) = Q i f * K j (f + F)%nat - Q i (f + F)%nat * K j f.
Proof. unfold Ghalf, chalf, Cmul, Cconj; simpl; split; ring. Qed.

Lemma Ekern_parts th f i j :
  re (Ekern th f i j) = cos ((INR j - INR i) * th f) /\ im (Ekern th f i j) = sin ((INR j - INR i) * th f).
Proof. split; reflexivity. Qed.

Lemma re_Cmul a b : re (Cmul a b) = re a * re b - im a * im b.
Proof. reflexivity. Qed.

(** NoPE: with all theta_f = 0 the rotation is the identity and L = sum_f Re(G^f) + Q_P K_P^T. *)
Corollary nope_interleaved F P Q K i j :
  L_adj F P (fun _ => 0) Q K i j = sum F (fun f => re (Gadj Q K f i j))
    + sum P (fun c => Q i (2 * F + c)%nat * K j (2 * F + c)%nat).
Proof.
  rewrite logit_matrix_interleaved. f_equal. apply sum_ext; intros f _.
  unfold Ekern. rewrite Rmult_0_r. unfold Cexp. rewrite cos_0, sin_0.
  unfold Cmul; simpl; ring.
Qed.

(** * Kernel lemma: E^f = u u^H with u_j = e^{-i j theta_f}, i.e. E^f_{ij} = u_i conj(u_j),
    and E^f has unit diagonal; Re E^f_{ij} = cos(j theta) cos(i theta) + sin(j theta) sin(i theta). *)
Lemma Ekern_rank_one th f i j :
  let u := fun p : nat => Cexp (- (INR p * th f)) in
  Ekern th f i j = Cmul (u i) (Cconj (u j)).
Proof.
  intros u. unfold u, Ekern, Cexp, Cmul, Cconj; simpl.
  rewrite cos_neg, sin_neg, cos_neg, sin_neg.
  replace ((INR j - INR i) * th f) with (INR j * th f - INR i * th f) by ring.
  rewrite cos_minus, sin_minus. f_equal; ring.
Qed.

Lemma Ekern_unit_diag th f i : Ekern th f i i = mkC 1 0.
Proof.
  unfold Ekern, Cexp. rewrite Rminus_diag_eq, Rmult_0_l, cos_0, sin_0 by reflexivity. reflexivity.
Qed.

Lemma re_Ekern_cs th f i j :
  re (Ekern th f i j) = cos (INR j * th f) * cos (INR i * th f) + sin (INR j * th f) * sin (INR i * th f).
Proof.
  unfold Ekern, Cexp; simpl.
  replace ((INR j - INR i) * th f) with (INR j * th f - INR i * th f) by ring.
  apply cos_minus.
Qed.

Corollary nope_half_split F P Q K i j :
  L_half F P (fun _ => 0) Q K i j = sum F (fun f => re (Ghalf F Q K f i j))
    + sum P (fun c => Q i (2 * F + c)%nat * K j (2 * F + c)%nat).
Proof.
  rewrite logit_matrix_half_split. f_equal. apply sum_ext; intros f _.
  unfold Ekern. rewrite Rmult_0_r. unfold Cexp. rewrite cos_0, sin_0.
  unfold Cmul; simpl; ring.
Qed.
