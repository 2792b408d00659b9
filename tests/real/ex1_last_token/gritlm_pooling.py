"""GritLM's last-token pooling: flip + argmax finds the last real token of any padding, but argmax refuses bool masks.

Source: ContextualAI/gritlm, gritlm/gritlm.py, commit 134d8b4a023db904d7c7c1e207f647c8914b685a,
``GritLM.pooling``, the ``lasttoken`` branch.
Edits (interface only): a function of (hidden, mask); ``last_token(hidden, lengths)`` builds
the tokenizer-style int64 right-padding mask; the device move and ``recast`` are left out
(one device here; recast=False is the default); re-written in our words, same operations.
Kept: no input validation; torch.argmax over the flipped mask (which does not support bool);
clamp at 0; gather from hidden * mask with the mask as float32.

Decided before grading: right for int and float masks of any padding, so last_token is
right; every bool mask raises (torch.argmax: "does not support bool input"), which costs
last_token_masked its values, gradient and vectorisation checks (their explicit examples
and the vectorisation check's masks are bool), and no ValueError anywhere.
"""

import torch

EXPECTED_FAILURES = {
    "test_last_token_rejects_bad_input",
    "test_last_token_masked_values",
    "test_last_token_masked_gradient",
    "test_last_token_masked_rejects_bad_input",
    "test_last_token_masked_vectorized",
}


def _pool_last_token(hidden_state, attention_mask):
    b, n, d = hidden_state.size()
    reversed_mask = torch.flip(attention_mask, dims=(1,))
    argmax_reverse = torch.argmax(reversed_mask, dim=1, keepdim=False)
    gather_indices = attention_mask.size(1) - argmax_reverse - 1
    gather_indices = torch.clamp(gather_indices, min=0)  # an empty row would give -1
    gather_indices = gather_indices.unsqueeze(-1).repeat(1, d).unsqueeze(1)  # (b, 1, d)
    input_mask_expanded = attention_mask.unsqueeze(-1).expand((b, n, d)).float()
    return torch.gather(hidden_state * input_mask_expanded, 1, gather_indices).squeeze(dim=1)


def last_token(hidden, lengths):
    mask = (torch.arange(hidden.shape[1], device=hidden.device) < lengths[:, None]).long()
    return _pool_last_token(hidden, mask)


def last_token_masked(hidden, mask):
    return _pool_last_token(hidden, mask)
