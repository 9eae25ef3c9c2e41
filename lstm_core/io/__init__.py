"""Reading and writing weights: the project's own checkpoints (`checkpoint`) and the files a user
uploads (`model_files`: `.pt`, `.safetensors`, `.npz`, read without running any code)."""
