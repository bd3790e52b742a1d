"""Black–Scholes: a European call's price, and its delta, gamma and vega as derivatives of the price.

C = S·N(d₁) − K·e^(−rT)·N(d₂), d₁ = (ln(S/K) + (r + σ²/2)T)/(σ√T), d₂ = d₁ − σ√T, with the normal
distribution N(x) = (1 + erf(x/√2))/2. delta = ∂C/∂S, gamma = ∂²C/∂S², vega = ∂C/∂σ, by grad and
hessian; the closed forms are delta = N(d₁), gamma = φ(d₁)/(Sσ√T), vega = S·φ(d₁)·√T (the test checks).

Run: python examples/black_scholes.py
"""

from __future__ import annotations

import chainrule
import chainrule.math as cm


def normal_cdf(x):
    return (1 + cm.erf(x / cm.sqrt(2.0))) / 2


def call_price(spot, volatility, strike=100.0, rate=0.03, years=0.75):
    root_t = cm.sqrt(years)
    d1 = (cm.log(spot / strike) + (rate + volatility * volatility / 2) * years) / (volatility * root_t)
    d2 = d1 - volatility * root_t
    return spot * normal_cdf(d1) - strike * cm.exp(-rate * years) * normal_cdf(d2)


def greeks(spot, volatility, **market):
    """(price, delta, gamma, vega) by chainrule."""
    price, (delta, vega) = chainrule.value_and_grad(call_price, (0, 1))(spot, volatility, **market)
    gamma = chainrule.hessian(call_price, 0)(spot, volatility, **market)
    return price, delta, gamma, vega


def closed_form(spot, volatility, strike=100.0, rate=0.03, years=0.75):
    """(delta, gamma, vega) from the textbook formulas, in floats."""
    root_t = years**0.5
    d1 = (cm.log(spot / strike) + (rate + volatility**2 / 2) * years) / (volatility * root_t)
    density = cm.exp(-d1 * d1 / 2) / cm.sqrt(2 * cm.pi)
    return normal_cdf(d1), density / (spot * volatility * root_t), spot * density * root_t


def main() -> None:
    for spot in (80.0, 100.0, 125.0):
        price, delta, gamma, vega = greeks(spot, 0.25)
        print(f"S={spot}: price {price:.6f}, delta {delta:.8f}, gamma {gamma:.8f}, vega {vega:.6f}")
        print("        closed form: delta {:.8f}, gamma {:.8f}, vega {:.6f}".format(*closed_form(spot, 0.25)))


if __name__ == "__main__":
    main()
