"""The clinic as data: profile model, loader and schedule."""

from salesagent.clinic.profile import ClinicProfile, ProfileError, load_profile

__all__ = ["ClinicProfile", "ProfileError", "load_profile"]
