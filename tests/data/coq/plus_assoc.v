Require Import Arith Lia.

Theorem plus_assoc_here : forall a b c : nat, a + (b + c) = (a + b) + c.
Proof.
Admitted.
