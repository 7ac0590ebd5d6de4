"""Scheduled jobs: the one mechanism that runs deadline scans and timers of every module."""
