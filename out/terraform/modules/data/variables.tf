# This module takes no inputs.
