"""MultiHeadAttention loops over the heads in Python: right values, but not vectorised."""

EXPECTED_FAILURES = {"test_mha_vectorized_heads"}

PATCH = [
    (
        '        Q = self.split_heads(self.W_q(query))  # (B, num_heads, L, d_k)\n'
        '        K = self.split_heads(self.W_k(key))  # (B, num_heads, S, d_k)\n'
        '        V = self.split_heads(self.W_v(value))  # (B, num_heads, S, d_k)\n'
        '        context, _ = scaled_dot_product_attention(Q, K, V, mask, self.dropout, self.training)  # (B, num_heads, L, d_k)\n'
        '        concatenated = context.transpose(1, 2).contiguous().view(B, L, d_model)  # (B, L, d_model)\n',
        '        Q, K, V = self.W_q(query), self.W_k(key), self.W_v(value)\n'
        '        if mask is not None and mask.dim() == 4:\n'
        '            mask = mask.expand(-1, self.num_heads, -1, -1)\n'
        '        head_outputs = []\n'
        '        for h in range(self.num_heads):\n'
        '            part = slice(h * self.d_k, (h + 1) * self.d_k)\n'
        '            head_mask = mask[:, h] if mask is not None and mask.dim() == 4 else mask\n'
        '            context, _ = scaled_dot_product_attention(\n'
        '                Q[..., part], K[..., part], V[..., part], head_mask, self.dropout, self.training\n'
        '            )\n'
        '            head_outputs.append(context)\n'
        '        concatenated = torch.cat(head_outputs, dim=-1)  # (B, L, d_model)\n',
    ),
]
