"""Helpers of Scripts/bench (issue 9): processes, sysbench, the scenarios, the report."""
