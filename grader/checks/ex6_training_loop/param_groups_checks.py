"""Exercise 6, param_groups(model, weight_decay): two groups holding each trainable parameter once, and which decay."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from grader import strategies as S
from grader.checks.ex6_training_loop.builders import describe_zoo
from grader.checks.ex6_training_loop.drivers import groups_of
from grader.checks.ex6_training_loop.oracles import reference_groups
from grader.compare import assert_matches, assert_true
from grader.feedback import fail
from grader.spec import check


@check(
    2,
    ja="param_groups: グループは 2 つ (減衰あり、減衰なし の順)。学習可能なパラメータがそれぞれちょうど 1 回、"
    "named_parameters() の順に入り、AdamW が受け付ける",
    en="param_groups: two groups (decay, then no decay) holding each trainable parameter exactly once, in "
    "named_parameters() order, and AdamW accepts them",
    hint_ja="model.named_parameters() を 1 回だけ回し、requires_grad が False のものは飛ばして、2 つのリストのどちらかに入れましょう。"
    "named_parameters() は共有された重み (tied weights) を 1 回しか返しません。片方が空でもグループは 2 つ返し、"
    "各グループには 'params' と 'weight_decay' (1 つ目は weight_decay、2 つ目は 0.0) を入れます。",
    hint_en="Loop once over model.named_parameters(), skip those with requires_grad=False, and put each into one of "
    "two lists; named_parameters() lists a shared (tied) weight once. Return two groups even when one is empty, each "
    "with 'params' and 'weight_decay' (weight_decay for the first, 0.0 for the second).",
)
@given(spec=S.zoo_specs(), weight_decay=st.sampled_from([0.0, 0.01, 0.1]))
@example(spec=S.ZooSpec((("fc", "Linear", False), ("ln", "LayerNorm", True)), tied=True), weight_decay=0.05)
@example(spec=S.ZooSpec((("fc", "Linear(bias=False)", False),)), weight_decay=0.1)  # nothing to exempt
def test_param_groups_hold_each_trainable_parameter_once(student, spec, weight_decay):
    facts = student.run(groups_of, spec, weight_decay)
    example = dict(model=describe_zoo(spec), weight_decay=weight_decay)
    groups = two_groups(facts, example)
    for i, (group, wanted) in enumerate(zip(groups, (weight_decay, 0.0))):
        missing = {"params", "weight_decay"} - set(group["keys"])
        assert_true(
            not missing,
            f"グループ {i} にキー {sorted(missing)} がありません / group {i} has no key {sorted(missing)}",
            example=example,
        )
        assert_matches(group["weight_decay"], wanted, what=f"param_groups(...)[{i}]['weight_decay']", example=example)
    listed = groups[0]["params"] + groups[1]["params"]
    trainable = facts["trainable"]
    twice = sorted({name for name in listed if listed.count(name) > 1})
    assert_true(
        not twice,
        f"2 回以上現れるパラメータがあります (共有された重みは 1 回) / parameters listed more than once (a tied weight "
        f"counts once): {twice}",
        example=example,
    )
    extra = [name for name in listed if name not in trainable]
    assert_true(
        not extra,
        f"学習しないパラメータ (requires_grad=False) が入っています / frozen parameters (requires_grad=False) are "
        f"listed: {extra}",
        example=example,
    )
    left_out = [name for name in trainable if name not in listed]
    assert_true(not left_out, f"入っていないパラメータがあります / parameters left out: {left_out}", example=example)
    for i, group in enumerate(groups):
        in_order = [name for name in trainable if name in group["params"]]
        assert_true(
            group["params"] == in_order,
            f"グループ {i} のパラメータが named_parameters() の順になっていません / group {i} is not in "
            "named_parameters() order",
            example=example,
            expected=in_order,
            actual=group["params"],
        )
    assert_true(
        facts["adamw_error"] is None,
        "torch.optim.AdamW(param_groups(...)) が失敗しました / torch.optim.AdamW(param_groups(...)) failed",
        example=example,
        detail=str(facts["adamw_error"]),
    )


@check(
    2,
    needs_reference=True,
    ja="param_groups: 減衰しないのは「bias」という名前で登録されたパラメータと正規化層 (LayerNorm・BatchNorm・GroupNorm・"
    "RMSNorm とそのサブクラス) のパラメータだけ",
    en="param_groups: exempt from decay are exactly the parameters registered as `bias` and those of normalisation "
    "layers (LayerNorm, BatchNorm, GroupNorm, RMSNorm and their subclasses)",
    hint_ja="'norm' in name のようにフルネームの部分文字列で選ぶと、normalizer という名前の Linear を除外し、ln という名前の "
    "LayerNorm を減衰させてしまいます。model.modules() の各モジュールで module.named_parameters(recurse=False) を回し、"
    "登録名が 'bias' か、isinstance(module, (nn.LayerNorm, nn.BatchNorm1d, ...)) かで決めましょう。",
    hint_en="Substrings of the full name ('norm' in name) exempt a Linear named normalizer and decay a LayerNorm named "
    "ln. For each module in model.modules(), loop over module.named_parameters(recurse=False) and decide by the "
    "registration name ('bias') or isinstance(module, (nn.LayerNorm, nn.BatchNorm1d, ...)).",
)
@given(spec=S.zoo_specs(), weight_decay=st.sampled_from([0.01, 0.1]))
@example(  # substring traps: a Linear named normalizer, a LayerNorm named ln, "bias" inside other names
    spec=S.ZooSpec(
        (
            ("normalizer", "Linear", False),
            ("ln", "LayerNorm", False),
            ("biased", "Linear(bias=False)", False),
            ("gate", "Gate(gain, bias_logit)", False),
            ("encoder", "Affine(scale, bias)", False),
        )
    ),
    weight_decay=0.1,
)
@example(  # every kind of normalisation layer, a subclass and a nested one included
    spec=S.ZooSpec(
        (
            ("fc", "BatchNorm1d", False),
            ("head", "BatchNorm2d", False),
            ("gate", "GroupNorm", False),
            ("bn", "RMSNorm", False),
            ("encoder", "LayerNorm subclass", False),
        )
    ),
    weight_decay=0.1,
)
@example(spec=S.ZooSpec((("layer_norm", "Sequential(Linear, LayerNorm)", False), ("bias_proj", "Embedding", False))), weight_decay=0.1)
def test_param_groups_exempt_biases_and_norm_layers(student, spec, weight_decay):
    expected = reference_groups(spec, weight_decay)
    facts = student.run(groups_of, spec, weight_decay)
    example = dict(model=describe_zoo(spec), weight_decay=weight_decay)
    groups = two_groups(facts, example)
    decayed, exempt = set(groups[0]["params"]), set(groups[1]["params"])
    wrongly_exempt = [name for name in expected["decay"] if name in exempt and name not in decayed]
    wrongly_decayed = [name for name in expected["no_decay"] if name in decayed and name not in exempt]
    if wrongly_exempt or wrongly_decayed:
        raise fail(
            "減衰するかどうかの選び方が違います / the choice of which parameters decay is wrong",
            example=example,
            detail="\n".join(
                line
                for line in (
                    f"減衰すべきなのに除外 / exempt but should decay: {wrongly_exempt}" if wrongly_exempt else "",
                    f"除外すべきなのに減衰 / decayed but should be exempt: {wrongly_decayed}" if wrongly_decayed else "",
                )
                if line
            ),
        )


def two_groups(facts: dict[str, Any], example: dict[str, Any]) -> list[dict[str, Any]]:
    """The student's param groups, which must be a list of two dicts."""
    groups = facts["groups"]
    assert_true(
        isinstance(groups, list) and len(groups) == 2,
        "param_groups は 2 つの dict のリストを返す必要があります / param_groups must return a list of two dicts",
        example=example,
        actual=groups,
    )
    return groups
