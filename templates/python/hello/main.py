"""A starter app from `nabla-build init --lang python`: prints a line and its arguments."""
import sys

print("Hello from a nabla unikernel!")
for i, arg in enumerate(sys.argv[1:], 1):
    print(f"arg {i}: {arg}")
