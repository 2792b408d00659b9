"""The scheduler reads each group's 'momentum', which only SGD and RMSprop have: Adam and AdamW raise KeyError."""

EXPECTED_FAILURES = {"test_scheduler_works_with_any_optimizer"}

PATCH = [
    (
        '        self.cycle_decay = cycle_decay\n',
        '        self.cycle_decay = cycle_decay\n'
        '        self.base_momentums = [group["momentum"] for group in optimizer.param_groups]\n',
    ),
]
