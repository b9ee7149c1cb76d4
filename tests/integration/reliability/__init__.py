"""Tests of the reliability core."""
