"""Key dates of the sanctions regime and of Kazakhstan's customs data."""

from datetime import date

#: Russia's full-scale invasion of Ukraine; Western export controls on Russia follow from here.
INVASION = date(2022, 2, 24)
#: Kazakhstan's e-waybill (SNT, IS ESF) becomes mandatory for every movement of goods within the EAEU
#: (Ministry of Finance order 278 of 15 Mar 2023). Before it, exports to Russia leave no per-line record.
SNT_OBLIGATION = date(2023, 4, 1)
#: Publication of the Common High Priority Items List in its tiered form (BIS, 23 Feb 2024).
CHPL_PUBLISHED = date(2024, 2, 23)
