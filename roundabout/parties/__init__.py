"""Parties: who the traders and counterparties are. Sanctions lists read from their publishers' official
formats (OFAC SDN, the EU consolidated list, the UK sanctions list, OpenSanctions exports) into one entry
shape (`entries.py`), names normalised across scripts, transliterations and legal forms (`names.py`), and
a screening index that compares a name with the few entries sharing its rare tokens (`index.py`). Its
match scores feed the party features of the model and the screening endpoint.
"""
