"""Test and benchmark helpers: synthetic data generators and fakes (never imported by app code)."""
