"""Third, scoring: `Metric` and its specs (`metric`), the calls components record while a batch runs
(`context`), what a worker sends an evaluator (`payload`), and the evaluator that scores them (`evaluate`)."""
