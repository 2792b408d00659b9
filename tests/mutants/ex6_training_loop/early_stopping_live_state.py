"""Mistake: EarlyStopping.state_dict() returns the instance's own __dict__, which later steps change."""

EXPECTED_FAILURES = {
    "test_early_stopping_state_dict_resumes",
}

PATCH = [
    (
        '        return {"best": self.best, "counter": self.counter, "should_stop": self.should_stop}\n',
        "        return self.__dict__\n",
    ),
]
