"""The scheduler starts from each group's current lr instead of its initial lr, so the factors compound."""

EXPECTED_FAILURES = {
    "test_matches_cosine_annealing_warm_restarts",
    "test_scheduler_follows_sgdr_lr_per_group",
    "test_scheduler_works_with_any_optimizer",
}

PATCH = [
    (
        '        # self.base_lrs holds each group\'s initial lr; the current group["lr"] would compound.\n'
        '        return [sgdr_lr(self.last_epoch, base_lr, **settings) for base_lr in self.base_lrs]\n',
        '        return [sgdr_lr(self.last_epoch, group["lr"], **settings) for group in self.optimizer.param_groups]\n',
    ),
]
