"""The plan of an install: the wheels to install, in order, and where each comes from.

A plan is taken from the stored plans (:mod:`~pip_accel.plan.stored`), made from pins'
metadata without pip (:mod:`~pip_accel.plan.pinned`), or made with pip's offline dry run
against the local index (:mod:`~pip_accel.plan.planner`); :mod:`~pip_accel.plan.dry_run`
tells the user what a plan would install.
"""
