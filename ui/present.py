"""Presenter mode (placeholder until the slides land)."""

import streamlit as st

from queries.filters import Filters


def show(filters: Filters, notices: list[str]) -> None:
    del filters, notices
    st.title("Presenter mode")
