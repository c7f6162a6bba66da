"""The paper's analysis (Eq. 4 and Figures 1-11, Table 1) as reusable functions."""
