"""Exercise 2: Swish with a custom autograd Function (ex2_swish.py), check by check in the contract's order.

The contract, section by section (each section's checks live in the module named):

- ``swish(x, beta)``, values and gradients (``function_checks.py``): the value
  x · sigmoid(beta · x) in every dtype, with beta a float, a 0-dim tensor or left out
  (1.0); the gradient for x, and for beta when it requires grad; gradcheck and
  gradgradcheck in float64 (backward is itself differentiable).
- Structure (``structure_checks.py``): swish and Swish go through SwishFunction and never
  call F.silu; only x (and beta) is saved for backward; the inputs are left unchanged.
- Robustness (``robustness_checks.py``): finite and right for large |x| in every dtype;
  empty and non-contiguous tensors work.
- The ``Swish`` module (``module_checks.py``): its values; beta is a 0-dim nn.Parameter
  only when learnable; backward puts the right gradient in Swish.beta.

Values are compared with reference/swish.py (``oracles.py``). The structural properties
(which graph node, what is saved for backward, which operators run) are measured with the
instruments in grader/probes.py by drivers (``drivers.py``) that run where the student's
code runs and report plain facts together with the values they saw, so a structural point
is only given with correct values (``comparisons.py``).
"""

from __future__ import annotations

# The drivers the checks run: imported here, so that an isolated worker importing this module registers them.
from grader.checks.ex2_swish import drivers  # noqa: F401

# The checks, in the contract's order: pytest, the report and grader.notebook list them in the order imported
# (so these imports are not sorted).
# isort: skip_file
from grader.checks.ex2_swish.function_checks import (  # noqa: F401
    test_forward_values,
    test_backward_values,
    test_beta_gradient,
    test_gradcheck,
    test_gradgradcheck,
)
from grader.checks.ex2_swish.structure_checks import (  # noqa: F401
    test_uses_custom_function,
    test_saves_only_input,
    test_input_unchanged,
)
from grader.checks.ex2_swish.robustness_checks import test_large_inputs, test_empty_and_noncontiguous  # noqa: F401
from grader.checks.ex2_swish.module_checks import (  # noqa: F401
    test_module_values,
    test_module_parameters,
    test_module_beta_gradient,
)
