"""timm's Mlp (fc1, act, drop1, norm, fc2, drop2) as the residual branch, as in timm's ViT blocks: dropout twice per block.

Source: huggingface/pytorch-image-models, timm/layers/mlp.py, commit
0d87caeffff595d74109828fad306dd6dcdd25a2, ``Mlp``; the residual form
x + mlp(norm2(x)) of ``Block`` in timm/models/vision_transformer.py.
Edits (interface only), as a PATCH of the model answer (input_proj, output_proj, final norm
and argument checks kept): ``act_layer`` is the contract's ``activation`` (called once per
block), ``drop`` is the block's dropout for both of Mlp's dropouts, Mlp's ``norm``
(nn.Identity without a norm_layer, no parameters) is left out, ``drop2`` is named
``dropout``; the block's pre-norm is ``norm``. Kept: fc1, act, drop1, fc2, drop2.

Decided before grading: the same output in eval mode (so every eval check passes), but two
dropouts per block in train mode: a mask after the activation, then one after fc2, where
the contract (and the reference) draws only the second. Only the train-mode check fails.
"""

EXPECTED_FAILURES = {"test_train_matches_reference"}

PATCH = [
    (
        "        self.activation = activation()  # a fresh instance per block\n",
        "        self.activation = activation()  # timm's act = act_layer()\n"
        "        self.drop1 = nn.Dropout(p)\n",
    ),
    (
        "        h = self.norm(x)\n"
        "        h = self.fc1(h)\n"
        "        h = self.activation(h)\n"
        "        h = self.fc2(h)\n"
        "        return x + self.dropout(h)  # dropout on the branch only, then the residual sum\n",
        "        h = self.fc1(self.norm(x))  # Mlp.forward: fc1, act, drop1, (norm), fc2, drop2\n"
        "        h = self.activation(h)\n"
        "        h = self.drop1(h)\n"
        "        h = self.fc2(h)\n"
        "        h = self.dropout(h)\n"
        "        return x + h\n",
    ),
]
