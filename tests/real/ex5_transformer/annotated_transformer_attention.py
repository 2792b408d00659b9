"""The Annotated Transformer's attention() and MultiHeadedAttention: masked scores filled with -1e9, dropout on the weights, an assert on the head count.

Source: harvardnlp/annotated-transformer, the_annotated_transformer.py, commit
0a91a254735c07532e23733dce8a693e504f3a08: ``attention`` and ``MultiHeadedAttention``.
Edits (interface only), as a PATCH of the model answer (AttentionHead, causal_mask,
PositionalEncoding and TransformerBlock are the model answer's; AttentionHead now calls
this attention): ``scaled_dot_product_attention(q, k, v, mask, dropout_p, training)`` calls
``attention`` with F.dropout(p, training) as its dropout; ``MultiHeadedAttention(h, d_model,
dropout=0.1)`` takes the contract's (d_model, num_heads, dropout=0.0, bias=True), its
``linears`` are W_q, W_k, W_v, W_o; its ``mask.unsqueeze(1)`` (for masks without a head
axis, (B, 1, S) or (B, L, S)) is left out, since the contract's masks broadcast to
(B, num_heads, L, S) as they are; ``self.attn`` (kept for plotting) and the ``del``s are
left out. Re-written in our words, the same operations.
Kept: masked_fill(mask == 0, -1e9), softmax, the dropout module on the weights,
view(nbatches, -1, h, d_k).transpose(1, 2), and ``assert d_model % h == 0``.

Decided before grading: a query with no key to attend to gets uniform weights over the
-1e9 scores (and W_o of the mean value in MultiHeadAttention), not zeros; the assert
raises AssertionError, not ValueError (in TransformerBlock too, which builds one).
Every other check passes: exp(-1e9 - max) is exactly 0, so rows with a key are exact.
"""

EXPECTED_FAILURES = {"test_fully_masked_rows", "test_mha_rejects_indivisible_heads"}

PATCH = [
    (
        '    """softmax(q kᵀ / √d_k) v and the weights used: (..., L, d_v), (..., L, S)."""\n    d_k = q.size(-1)\n    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d_k)  # (..., L, S)\n    if mask is not None:\n        allowed = mask != 0\n        # the lowest finite value, not -inf: a row with no key stays finite (uniform), zeroed below\n        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)\n    weights = torch.softmax(scores, dim=-1)  # (..., L, S)\n    if mask is not None:\n        weights = weights.masked_fill(~allowed.any(dim=-1, keepdim=True), 0.0)\n    weights = F.dropout(weights, dropout_p, training=training)\n    return torch.matmul(weights, v), weights  # (..., L, d_v), (..., L, S)\n',
        '    """The Annotated Transformer\'s attention(), its dropout module given as F.dropout(p, training)."""\n    return attention(q, k, v, mask, dropout=lambda p_attn: F.dropout(p_attn, dropout_p, training=training))\n\n\ndef attention(query, key, value, mask=None, dropout=None):\n    """Compute \'Scaled Dot Product Attention\' (the Annotated Transformer\'s)."""\n    d_k = query.size(-1)\n    scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)\n    if mask is not None:\n        scores = scores.masked_fill(mask == 0, -1e9)\n    p_attn = scores.softmax(dim=-1)\n    if dropout is not None:\n        p_attn = dropout(p_attn)\n    return torch.matmul(p_attn, value), p_attn',
    ),
    (
        '    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:\n        super().__init__()\n        if d_model % num_heads != 0:\n            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")\n        self.num_heads = num_heads\n        self.d_k = d_model // num_heads\n        self.dropout = dropout\n        self.W_q = nn.Linear(d_model, d_model, bias=bias)\n        self.W_k = nn.Linear(d_model, d_model, bias=bias)\n        self.W_v = nn.Linear(d_model, d_model, bias=bias)\n        self.W_o = nn.Linear(d_model, d_model, bias=bias)\n\n    def split_heads(self, x: torch.Tensor) -> torch.Tensor:\n        B, T, d_model = x.shape\n        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)  # (B, num_heads, T, d_k)\n\n    def forward(self, query, key, value, mask=None):\n        B, L, d_model = query.shape\n        Q = self.split_heads(self.W_q(query))  # (B, num_heads, L, d_k)\n        K = self.split_heads(self.W_k(key))  # (B, num_heads, S, d_k)\n        V = self.split_heads(self.W_v(value))  # (B, num_heads, S, d_k)\n        context, _ = scaled_dot_product_attention(Q, K, V, mask, self.dropout, self.training)  # (B, num_heads, L, d_k)\n        concatenated = context.transpose(1, 2).contiguous().view(B, L, d_model)  # (B, L, d_model)\n        return self.W_o(concatenated)\n',
        '    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:\n        super().__init__()\n        assert d_model % num_heads == 0\n        self.d_k = d_model // num_heads  # d_v always equals d_k\n        self.h = num_heads\n        self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d_model, d_model, bias=bias) for _ in range(4))\n        self.dropout = nn.Dropout(p=dropout)\n\n    def forward(self, query, key, value, mask=None):\n        nbatches = query.size(0)\n        # 1) all the linear projections in batch, d_model => h x d_k\n        query, key, value = [\n            lin(x).view(nbatches, -1, self.h, self.d_k).transpose(1, 2)\n            for lin, x in zip((self.W_q, self.W_k, self.W_v), (query, key, value))\n        ]\n        # 2) attention on all the projected vectors in batch\n        x, _ = attention(query, key, value, mask=mask, dropout=self.dropout)\n        # 3) "concat" with a view, then the final linear\n        x = x.transpose(1, 2).contiguous().view(nbatches, -1, self.h * self.d_k)\n        return self.W_o(x)',
    ),
]
