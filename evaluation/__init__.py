"""Evaluation of trained models: clean accuracy now; attacks are added by the attacks issue."""
