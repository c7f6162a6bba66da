"""In-graph adversarial attacks (FGSM, PGD, ...): delivered by the attacks/evaluation issue."""
