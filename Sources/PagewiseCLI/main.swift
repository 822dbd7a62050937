print("pagewise")
