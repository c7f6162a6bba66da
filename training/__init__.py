"""Training with the paper's regularizers: configuration, objective, optimizer, loop."""
