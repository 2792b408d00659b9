"""sentence-transformers' first last-token pooling (2022): argmin of the mask finds the first padding, minus one.

Source: UKPLab/sentence-transformers, sentence_transformers/models/Pooling.py, commit
149e885243a4335e4da230d5f5a1290999ff92e4 ("Add weightedmean & lasttoken pooling"), the
``pooling_mode_lasttoken_tokens`` branch of ``Pooling.forward``.
Edits (interface only): the branch is a function of (hidden, mask) instead of a features dict;
``last_token(hidden, lengths)`` builds the right-padding attention mask a tokenizer would
give (int64) and pools with it; re-written in our words, the same operations in the same order.
Kept: no input validation; argmin (no bool support in torch); a row with no padding gives
index -1, clamped to 0 (the first token); the gather from ``hidden * mask``, the mask as float32.

Decided before grading, from the code and the contract: full rows (no padding) take the
first token, left padding and gaps give zeros or wrong rows, bool masks raise; only
last_token's gradient routing holds (its outputs are always some row of hidden).
"""

import torch

EXPECTED_FAILURES = {
    "test_last_token_values",
    "test_last_token_rejects_bad_input",
    "test_last_token_vectorized",
    "test_last_token_masked_values",
    "test_last_token_masked_gradient",
    "test_last_token_masked_rejects_bad_input",
    "test_last_token_masked_vectorized",
}


def _pool_last_token(token_embeddings, attention_mask):
    bs, seq_len, hidden_dim = token_embeddings.shape
    # the first 0 of the mask, minus one (a row without 0 gives -1)
    gather_indices = torch.argmin(attention_mask, 1, keepdim=False) - 1
    gather_indices = torch.clamp(gather_indices, min=0)
    gather_indices = gather_indices.unsqueeze(-1).repeat(1, hidden_dim).unsqueeze(1)  # (bs, 1, hidden_dim)
    input_mask_expanded = attention_mask.unsqueeze(-1).expand(token_embeddings.size()).float()
    return torch.gather(token_embeddings * input_mask_expanded, 1, gather_indices).squeeze(dim=1)


def last_token(hidden, lengths):
    mask = (torch.arange(hidden.shape[1], device=hidden.device) < lengths[:, None]).long()
    return _pool_last_token(hidden, mask)


def last_token_masked(hidden, mask):
    return _pool_last_token(hidden, mask)
