import sys

print("Hello from Python in a nabla-build image!")
for i, arg in enumerate(sys.argv[1:], 1):
    print(f"arg {i}: {arg}")
