"""Exercise 5: Transformer building blocks (ex5_transformer.py), check by check in the contract's order.

The contract, section by section (each section's checks live in the module named):

- scaled_dot_product_attention and causal_mask (``attention_checks.py``): the values and
  weights, with masks too; a row with no key to attend to is zero; the causal mask is
  aligned to the upper left; dropout acts on the weights, only when training.
- AttentionHead and MultiHeadAttention (``multihead_checks.py``): self- and
  cross-attention match the reference; every mask shape hides what it should; causality;
  permutation equivariance; ValueError for indivisible heads; all heads computed together.
- PositionalEncoding (``positional_checks.py``): the table pe, x + pe[:L], ValueError past max_len.
- TransformerBlock (``block_checks.py``): post-norm and pre-norm blocks match the reference.
- Across modules (``cross_module_checks.py``): dropout only in train mode, where and in the
  order the reference's acts; gradients reach every parameter.

The student's modules are built, run and differentiated by the drivers (``drivers.py``),
wherever the student's code runs; the checks compare what comes back. Values are compared
with reference/ after loading the reference's weights into the student's module (a strict
``load_state_dict``, so the chapter's names matter; ``oracles.py``). The structural
properties (fully masked rows, masking, causality, permutation equivariance, dropout) are
checked on the student's own modules against themselves, so a wrong formula costs the
value checks and not those. What can only be measured where the student's code runs
(operator counts, how often self.dropout runs, which parameters get a gradient) is
believed only together with outputs that match the reference, so those checks share the
reference's weights too. Both sides build modules from the same recipes (``recipes.py``).
"""

from __future__ import annotations

# The checks, in the contract's order: pytest, the report and grader.notebook list them in the order imported.
from grader.checks.ex5_transformer.attention_checks import (  # noqa: F401
    test_attention_values,
    test_fully_masked_rows,
    test_causal_mask,
    test_attention_dropout,
)
from grader.checks.ex5_transformer.multihead_checks import (  # noqa: F401
    test_attention_head_values,
    test_mha_values,
    test_mha_cross_attention,
    test_mha_mask_shapes,
    test_causality,
    test_permutation_equivariance,
    test_mha_rejects_indivisible_heads,
    test_mha_vectorized_heads,
)
from grader.checks.ex5_transformer.positional_checks import (  # noqa: F401
    test_positional_encoding_table,
    test_positional_encoding_forward,
    test_positional_encoding_rejects_long_input,
)
from grader.checks.ex5_transformer.block_checks import test_block_post_norm_values, test_block_pre_norm_values  # noqa: F401
from grader.checks.ex5_transformer.cross_module_checks import test_dropout_train_and_eval, test_gradients_reach_every_parameter  # noqa: F401
