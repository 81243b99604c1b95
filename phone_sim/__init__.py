"""phone-sim"""
