"""Every param group is scheduled from the first group's initial lr."""

EXPECTED_FAILURES = {"test_scheduler_follows_sgdr_lr_per_group"}

PATCH = [
    (
        '        # self.base_lrs holds each group\'s initial lr; the current group["lr"] would compound.\n'
        '        return [sgdr_lr(self.last_epoch, base_lr, **settings) for base_lr in self.base_lrs]\n',
        '        return [sgdr_lr(self.last_epoch, base_lr, **settings) for base_lr in [self.base_lrs[0]] * len(self.base_lrs)]\n',
    ),
]
