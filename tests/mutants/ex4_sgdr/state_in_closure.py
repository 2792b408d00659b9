"""The step count lives in a closure that state_dict() leaves out (like LambdaLR's lambdas): resuming starts over."""

EXPECTED_FAILURES = {"test_scheduler_state_dict_resumes"}

PATCH = [
    (
        '        super().__init__(optimizer, last_epoch)  # takes the first step: last_epoch becomes 0\n',
        '        counter = iter(range(10**18))\n'
        '        self.next_step = lambda: next(counter)\n'
        '        super().__init__(optimizer, last_epoch)  # takes the first step\n',
    ),
    (
        '        # self.base_lrs holds each group\'s initial lr; the current group["lr"] would compound.\n'
        '        return [sgdr_lr(self.last_epoch, base_lr, **settings) for base_lr in self.base_lrs]\n',
        '        t = self.next_step()\n'
        '        return [sgdr_lr(t, base_lr, **settings) for base_lr in self.base_lrs]\n'
        '\n'
        '    def state_dict(self):\n'
        '        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "next_step")}\n',
    ),
]
