print("adascale")
