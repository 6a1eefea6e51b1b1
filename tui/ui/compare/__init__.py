"""The Compare & bench screen: compare replies side by side, benchmarks, batch runs, saved runs."""
