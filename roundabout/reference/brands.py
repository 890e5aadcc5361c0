"""Chipmakers whose parts were found in Russian weapons.

Source: FinCEN/BIS joint alerts (June 2022, May 2023) and BIS "Know Your Customer" guidance, as summarised
in shared/domain/DOMAIN.md. A goods description naming one of these is a red flag. Keys are the canonical
brand; values are the lower-case spellings matched as whole words in descriptions.
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
