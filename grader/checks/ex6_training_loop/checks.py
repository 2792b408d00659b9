"""Exercise 6: the chapter's training loop, graded by what it does to the weights (ex6_training_loop.py).

The contract, section by section, in its order (each section's checks live in the module named):

- param_groups(model, weight_decay) (``param_groups_checks.py``): two groups holding each
  trainable parameter once, in order; exempt from decay are exactly biases and norm layers.
- train_epoch(model, loader, optimizer, loss_fn, ...) (``train_epoch_checks.py``): the
  weights after one epoch equal the reference's (SGD, momentum SGD, AdamW; with
  accumulation, clipping, a scheduler); accumulation equals one big batch; stale
  gradients are ignored and cleared; the scheduler steps once per optimizer step; what it
  returns; no graph outlives its micro-batch.
- evaluate(model, loader, loss_fn) (``evaluate_checks.py``): the mean loss and accuracy;
  eval mode, restored afterwards; no graph.
- snapshot(model), restore(model, snap) (``snapshot_checks.py``): a snapshot training leaves
  alone; an exact restore into the model's own tensors.
- EarlyStopping(patience, min_delta, mode) (``early_stopping_checks.py``): step, best and
  counter as the reference's, NaN included; state_dict() resumes exactly.
- fit(...) (``fit_checks.py``): each epoch's history; the best epoch restored, stopping
  where early stopping says.
- Bad arguments (``bad_arguments_checks.py``): ValueError.

A loop is judged by its effect: the weights of a small seeded net after the student's
``train_epoch`` are compared with the weights after the reference's; other checks compare
the student's loop with itself or watch it with instruments. The student's code runs in
the drivers (``drivers.py``), the reference's in the oracle calls (``oracles.py``); both
build the same nets, optimizers and loaders from the same plain data (``builders.py``).
Everything is compared in the grading process (``comparisons.py``).

Cases: float32 and float64, on the CPU and on CUDA, as the exercise's contract says (no
half-precision cases); checks of a property with no dtype of its own run in float32.
"""

from __future__ import annotations

# The checks, in the contract's order: pytest, the report and grader.notebook list them in the order imported.
from grader.checks.ex6_training_loop.param_groups_checks import (  # noqa: F401
    test_param_groups_hold_each_trainable_parameter_once,
    test_param_groups_exempt_biases_and_norm_layers,
)
from grader.checks.ex6_training_loop.train_epoch_checks import (  # noqa: F401
    test_train_epoch_matches_reference,
    test_train_epoch_accumulation_matches_reference,
    test_train_epoch_clipping_matches_reference,
    test_train_epoch_scheduler_matches_reference,
    test_accumulation_equals_one_big_batch,
    test_stale_gradients_are_ignored_and_cleared,
    test_scheduler_steps_once_after_each_optimizer_step,
    test_train_epoch_returns_loss_steps_and_grad_norms,
    test_train_epoch_keeps_no_graph,
)
from grader.checks.ex6_training_loop.evaluate_checks import (  # noqa: F401
    test_evaluate_matches_reference,
    test_evaluate_uses_eval_mode_and_restores_it,
    test_evaluate_builds_no_graph,
)
from grader.checks.ex6_training_loop.snapshot_checks import (  # noqa: F401
    test_snapshot_survives_training,
    test_restore_gives_back_the_exact_weights,
)
from grader.checks.ex6_training_loop.early_stopping_checks import (  # noqa: F401
    test_early_stopping_matches_reference,
    test_early_stopping_state_dict_resumes,
)
from grader.checks.ex6_training_loop.fit_checks import (  # noqa: F401
    test_fit_history_matches_reference,
    test_fit_restores_best_epoch_and_stops,
)
from grader.checks.ex6_training_loop.bad_arguments_checks import test_rejects_bad_arguments  # noqa: F401
