"""Chipmakers whose parts were found in Russian weapons.

Source: RUSI, "Silicon Lifeline: Western Electronics at the Heart of Russia's War Machine" (Aug 2022), which
found over 450 foreign-made components in 27 Russian weapon systems recovered in Ukraine, most of them
made by US companies (Texas Instruments, Analog Devices and Maxim, Intel's Altera, AMD's Xilinx, Cypress,
now Infineon, among them). Why a description naming one is a red flag: these are the makers of the CHPL's
Tier 1-2 goods (integrated circuits; BIS, 23 Feb 2024) that Russia procures through third countries
(FinCEN/BIS joint alert FIN-2023-Alert004, 19 May 2023). Keys are the canonical brand (the parent company
today); values are the lower-case spellings matched as whole words in descriptions, acquired brands
included.
"""

CHIPMAKER_BRANDS: dict[str, tuple[str, ...]] = {
    "Texas Instruments": ("texas instruments",),
    "Analog Devices": ("analog devices", "maxim integrated", "maxim"),
    "Intel": ("intel", "altera"),
    "AMD": ("amd", "xilinx"),
    "Infineon": ("infineon", "cypress"),
    "NXP": ("nxp",),
    "Microchip": ("microchip",),
}
