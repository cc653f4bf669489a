"""Streamlit-side shell: sign-in, sidebar, filters in the URL, labels, formatting, caching."""
