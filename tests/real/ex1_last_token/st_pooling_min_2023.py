"""sentence-transformers' last-token pooling after its 2023 fix: full rows now end at seq_len - 1, but it still finds the first padding.

Source: UKPLab/sentence-transformers, sentence_transformers/models/Pooling.py, commit
6b524f8c233ff013c2cfc9b49145da25a2d7b79d ("Fix indexing of lasttoken pooling for longest
sequence (#2111)"), the ``pooling_mode_lasttoken`` branch of ``Pooling.forward``.
Edits (interface only): a function of (hidden, mask); ``last_token(hidden, lengths)`` builds
the tokenizer-style int64 right-padding mask; re-written in our words, same operations.
Kept: no input validation; the index of the first minimum of the mask (the first padding)
minus one, or seq_len - 1 when the row has no padding; clamp at 0; gather from hidden * mask.

Decided before grading: right padding (so ``last_token``) is right everywhere; a
left-padded row gives index -1 -> 0 -> a zero row, gaps give the token before the first
hole, so last_token_masked's values, gradient routing (a zero row is none of hidden's
rows) and vectorisation (its random masks have gaps) fail, and no ValueError anywhere.
"""

import torch

EXPECTED_FAILURES = {
    "test_last_token_rejects_bad_input",
    "test_last_token_masked_values",
    "test_last_token_masked_gradient",
    "test_last_token_masked_rejects_bad_input",
    "test_last_token_masked_vectorized",
}


def _pool_last_token(token_embeddings, attention_mask):
    bs, seq_len, hidden_dim = token_embeddings.shape
    values, indices = torch.min(attention_mask, 1, keepdim=False)  # the first padding, if any
    gather_indices = torch.where(values == 0, indices, seq_len) - 1
    gather_indices = torch.clamp(gather_indices, min=0)
    gather_indices = gather_indices.unsqueeze(-1).repeat(1, hidden_dim).unsqueeze(1)  # (bs, 1, hidden_dim)
    input_mask_expanded = attention_mask.unsqueeze(-1).expand(token_embeddings.size()).float()
    return torch.gather(token_embeddings * input_mask_expanded, 1, gather_indices).squeeze(dim=1)


def last_token(hidden, lengths):
    mask = (torch.arange(hidden.shape[1], device=hidden.device) < lengths[:, None]).long()
    return _pool_last_token(hidden, mask)


def last_token_masked(hidden, mask):
    return _pool_last_token(hidden, mask)
