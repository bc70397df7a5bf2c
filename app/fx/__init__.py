"""Currency conversion with provenance (issue 17): reference rates from the ECB (a public sync
dataset), an optional Frankfurter server and workspace manual rates; conversion of revenue
read models into one reporting currency, each converted value saying which rate, of which
date and source, it used, and what could not be converted.

This package sits on its own floor below the domains (``pyproject``'s import-linter layers):
the revenue domains (sales, finance, subscriptions) call down into :mod:`app.fx.convert`.
"""
