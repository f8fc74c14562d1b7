"""The fleet's memory: plans and compiled trees shared through the bucket, between workers."""
