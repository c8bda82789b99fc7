"""Money as data: typed transaction queries, anomaly detectors, spending reports, money questions."""
