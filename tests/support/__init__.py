"""Test helpers shared by test modules."""
