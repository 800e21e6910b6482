Require Import Arith.

Lemma two_pow_pos : forall n : nat,
  0 < 2 ^ n.
Admitted.
