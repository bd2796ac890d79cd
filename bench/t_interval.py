"""Mean and the half-width of a two-sided 95 % Student-t interval, for the bench table scripts."""
import math

# Two-sided 95 % quantiles of Student's t for 1..9 degrees of freedom (1.96 beyond).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def interval(values):
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, T975.get(n - 1, 1.96) * sd / math.sqrt(n)
