"""A Flask app as a nabla unikernel: Flask comes from Debian's python3-flask (requirements.txt)."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def index():
    return "hello from Flask in a nabla unikernel\n"


@app.get("/add/<int:a>/<int:b>")
def add(a, b):
    return jsonify(sum=a + b)


@app.post("/echo")
def echo():
    return jsonify(request.get_json())


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8080)
