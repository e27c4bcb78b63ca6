fn main() {
    commitlab_web::start();
}
